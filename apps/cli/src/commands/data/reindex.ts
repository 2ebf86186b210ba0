import { buildRecordIOIndex, idxPathFor } from '@facet/sdk';
import { Args } from '@oclif/core';
import { FacetCommand } from '../../base.js';

export default class DataReindex extends FacetCommand {
  static description = 'Rebuild the .idx index of a RecordIO .rec by scanning it (keys from each record header id)';
  static examples = ['<%= config.bin %> data reindex faces_emore/train.rec'];
  static args = { rec: Args.string({ description: 'the .rec file', required: true }) };

  async run(): Promise<{ rec: string; idx: string; records: number }> {
    const { args } = await this.parse(DataReindex);
    const idx = idxPathFor(args.rec);
    const records = await buildRecordIOIndex(args.rec, idx);
    this.log(`indexed ${records} records of ${args.rec} into ${idx}`);
    return { rec: args.rec, idx, records };
  }
}
