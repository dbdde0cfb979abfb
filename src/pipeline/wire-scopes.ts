/**
 * The resource → scope nesting every OTLP request shares (ResourceLogs/ScopeLogs,
 * ResourceMetrics/ScopeMetrics), walked once for the one-pass decoders: each scope with its
 * resource and scope context decoded once, and the ranges of its records (start, end pairs).
 */
import { groupResource, groupScope, readRequestGroups, readWireGroup } from '../otlp/wire-group.js';
import type { WireReader } from '../otlp/wire-reader.js';
import { resourceContext, scopeContext, type ResourceContext, type ScopeContext } from '../schema/common.js';

export interface WireScope {
  readonly resource: ResourceContext;
  readonly scope: ScopeContext;
  /** The scope's records as [start, end, start, end, …] offsets into the body. */
  readonly records: readonly number[];
}

export function* wireScopes(r: WireReader): Generator<WireScope> {
  const groups = readRequestGroups(r);
  for (let gi = 0; gi < groups.length; gi += 2) {
    const rg = readWireGroup(r, groups[gi]!, groups[gi + 1]!);
    const resource = resourceContext(groupResource(r, rg), r.text(rg.url0, rg.url1));
    for (let si = 0; si < rg.children.length; si += 2) {
      const sg = readWireGroup(r, rg.children[si]!, rg.children[si + 1]!);
      yield { resource, scope: scopeContext(groupScope(r, sg), r.text(sg.url0, sg.url1)), records: sg.children };
    }
  }
}
