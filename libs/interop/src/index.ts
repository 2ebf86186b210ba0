// @facet/interop
export {};
