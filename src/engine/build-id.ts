declare const __FLOW_BUILD__: string | undefined;

/** A hash of the source that built this flow (set by the build); a workflow model is reused only by the same build. */
export const FLOW_BUILD = typeof __FLOW_BUILD__ === 'string' ? __FLOW_BUILD__ : 'unbundled';
