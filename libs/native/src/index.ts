// @facet/native
export {};
