export { FacetCommand } from './base.js';
