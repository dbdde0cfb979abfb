/**
 * Schema version 2's dedicated resource-attribute columns: the config key (defaults, bad values,
 * clashes), the values that fit moving out of `resource_attributes` and those that do not
 * staying, the same rows from both decoders, and one split per resource.
 */
import { describe, expect, it } from 'vitest';
import type { RecordBatch } from 'apache-arrow';
import { ConfigError, parseConfigText } from '../../src/config/index.js';
import { DATASET_COLUMNS } from '../../src/config/promoted-columns.js';
import type { ExportTraceServiceRequest } from '../../src/otlp/types.js';
import { decodeRequest } from '../../src/otlp/decode.js';
import { convertTraces } from '../../src/pipeline/convert-traces.js';
import { convertTracesWire } from '../../src/pipeline/convert-traces-wire.js';
import { Partitioner } from '../../src/pipeline/partitioner.js';
import { resourceContext, resourceRow } from '../../src/schema/common.js';
import { DATASETS, DATASET_NAMES, promotedSpecs } from '../../src/schema/datasets.js';
import { withDerived } from '../../src/schema/derived.js';
import { parsePromoted, parsePromotedResource, splitSpecs } from '../../src/schema/promoted.js';
import { TRACES_SCHEMA_VERSION } from '../../src/schema/traces.js';
import { LOGS_SCHEMA_VERSION } from '../../src/schema/logs.js';
import { METRICS_SCHEMA_VERSION } from '../../src/schema/metrics.js';
import { toProtobuf } from '../helpers/otlp-requests.js';
import { jsonSpan } from '../helpers/otlp.js';
import { summary } from '../helpers/decoder-differential.js';

function configError(text: string): ConfigError {
  try {
    parseConfigText(text);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('[schema.<dataset>] promoted_resource_attributes', () => {
  it('defaults to the common semantic-convention resource attributes, for every dataset', () => {
    const c = parseConfigText('');
    for (const d of DATASET_NAMES) {
      expect(c.schema[d].promoted_resource_attributes).toContain('host.name');
      expect(c.schema[d].promoted_resource_attributes).toContain('k8s.pod.name');
      expect(c.schema[d].promoted_resource_attributes).not.toContain('service.name');
    }
    const specs = promotedSpecs(c).traces.filter((s) => s.map === 'resource_attributes');
    expect(specs.map((s) => s.column)).toContain('k8s_pod_name');
    expect(specs.every((s) => s.type === 'string')).toBe(true);
  });

  it('takes a list with types and an empty list', () => {
    const c = parseConfigText('[schema.logs]\npromoted_resource_attributes = ["host.name", "process.pid:int64"]\n[schema.metrics]\npromoted_resource_attributes = []');
    expect(promotedSpecs(c).logs.filter((s) => s.map === 'resource_attributes')).toEqual([
      { attribute: 'host.name', column: 'host_name', type: 'string', map: 'resource_attributes' },
      { attribute: 'process.pid', column: 'process_pid', type: 'int64', map: 'resource_attributes' },
    ]);
    expect(promotedSpecs(c).metrics.filter((s) => s.map === 'resource_attributes')).toEqual([]);
  });

  it('reports bad values with their key paths, all at once', () => {
    const err = configError('[schema.traces]\npromoted_resource_attributes = ["a", "", "a", 3]\n[schema.logs]\npromoted_resource_attributes = "host.name"');
    expect(err.message).toContain('schema.traces.promoted_resource_attributes[1]');
    expect(err.message).toContain('schema.traces.promoted_resource_attributes[2]: duplicate attribute name (first at [0])');
    expect(err.message).toContain('schema.traces.promoted_resource_attributes[3]');
    expect(err.message).toContain('schema.logs.promoted_resource_attributes: expected an array of attribute names');
  });

  it('refuses a column that clashes with a dataset column, naming both', () => {
    const err = configError('[schema.traces]\npromoted_resource_attributes = ["host.name", "service.name"]');
    expect(err.message).toContain(
      'schema.traces.promoted_resource_attributes[1]: "service.name" would be stored in column "service_name", which is a column of the traces dataset',
    );
    const logs = configError('[schema.logs]\npromoted_resource_attributes = ["severity.text"]');
    expect(logs.message).toContain('schema.logs.promoted_resource_attributes[0]: "severity.text" would be stored in column "severity_text", which is a column of the logs dataset');
    // The record's own promoted attributes are checked the same way.
    expect(configError('[schema.traces]\npromoted_attributes = ["name"]').message).toContain('schema.traces.promoted_attributes[0]: "name" would be stored in column "name"');
  });

  it('refuses a column that clashes with a promoted attribute column, naming both', () => {
    const err = configError('[schema.traces]\npromoted_attributes = ["k8s.pod.name"]\npromoted_resource_attributes = ["k8s_pod.name"]');
    expect(err.message).toContain(
      'schema.traces.promoted_resource_attributes[0]: "k8s_pod.name" would be stored in column "k8s_pod_name", as schema.traces.promoted_attributes[0] ("k8s.pod.name") is',
    );
    const same = configError('[schema.metrics]\npromoted_attributes = ["host.name"]\npromoted_resource_attributes = ["host.name"]');
    expect(same.message).toContain('schema.metrics.promoted_resource_attributes[0]: "host.name" would be stored in column "host_name"');
  });

  it('leaves out of the default what promoted_attributes already makes a column of (an older config keeps loading)', () => {
    const c = parseConfigText('[schema.metrics]\npromoted_attributes = ["k8s.pod.name"]');
    expect(c.schema.metrics.promoted_resource_attributes).not.toContain('k8s.pod.name');
    expect(c.schema.metrics.promoted_resource_attributes).toContain('host.name');
    expect(c.schema.traces.promoted_resource_attributes).toContain('k8s.pod.name');
  });

  it("lists every dataset's own columns as the schemas do (the clash check cannot drift)", () => {
    // The columns readers see: a derived one (traces' end_time, version 3) clashes like a stored one.
    for (const d of DATASET_NAMES) expect([...DATASET_COLUMNS[d]]).toEqual(withDerived(DATASETS[d].schema([]), DATASETS[d].derived).fields.map((f) => f.name));
  });
});

const partitioner = new Partitioner({ granularity: 'hour', format: 'date=%Y-%m-%d/hour=%H', byService: false });
const PROMOTED = [
  ...['http.request.method', 'app.count:int64'].map(parsePromoted),
  ...['host.name', 'k8s.pod.name', 'service.version', 'process.pid:int64', 'cloud.region'].map(parsePromotedResource),
];

const str = (key: string, v: string) => ({ key, value: { stringValue: v } });
const int = (key: string, v: number) => ({ key, value: { intValue: v } });

function request(): Record<string, unknown> {
  const spans = (n: number) => Array.from({ length: n }, (_, i) => jsonSpan({ name: `op${i}`, attributes: [str('http.request.method', 'GET')] }));
  return {
    resourceSpans: [
      {
        // host.name fits; k8s.pod.name is an int (does not fit a string column: stays in the map);
        // process.pid:int64 fits; the second host.name is a duplicate key (the first wins, the second stays).
        resource: { attributes: [str('service.name', 'api'), str('host.name', 'node-1'), int('k8s.pod.name', 7), int('process.pid', 4242), str('custom.x', 'y'), str('host.name', 'dup')] },
        scopeSpans: [{ scope: { name: 's' }, spans: spans(3) }],
      },
      {
        resource: { attributes: [str('service.name', 'db'), str('service.version', '1.2.3'), str('process.pid', 'not-a-number')] },
        scopeSpans: [{ scope: { name: 's' }, spans: spans(2) }],
      },
    ],
  };
}

function rows(batch: RecordBatch): Record<string, unknown>[] {
  return batch.toArray().map((r) => {
    const o = (r as { toJSON(): Record<string, unknown> }).toJSON();
    const map = o.resource_attributes as { toJSON(): Record<string, string | null> } | null;
    return { ...o, resource_attributes: map ? { ...map.toJSON() } : null };
  });
}

describe('dedicated resource columns in a batch (schema version 2)', () => {
  it('is version 2 for every dataset (traces 3 since end_time is derived)', () => {
    expect([TRACES_SCHEMA_VERSION, LOGS_SCHEMA_VERSION, METRICS_SCHEMA_VERSION]).toEqual([3, 2, 2]);
  });

  it('moves a fitting value out of resource_attributes and keeps one that does not fit', () => {
    const body = toProtobuf('traces', request());
    const converted = convertTracesWire(body, partitioner, PROMOTED);
    expect(converted.accepted).toBe(5);
    const batch = converted.groups[0]!.batch;
    const names = batch.schema.fields.map((f) => f.name);
    // The record's promoted columns, then the resource's, after every dataset column.
    expect(names.slice(-7)).toEqual(['http_request_method', 'app_count', 'host_name', 'k8s_pod_name', 'service_version', 'process_pid', 'cloud_region']);
    expect(String(batch.schema.fields.find((f) => f.name === 'process_pid')!.type)).toBe('Int64');
    const r = rows(batch);
    expect(r[0]).toMatchObject({
      service_name: 'api',
      host_name: 'node-1',
      k8s_pod_name: null,
      process_pid: 4242n,
      service_version: null,
      cloud_region: null,
      resource_attributes: { 'service.name': 'api', 'k8s.pod.name': '7', 'custom.x': 'y', 'host.name': 'dup' },
    });
    expect(r[2]).toMatchObject({ host_name: 'node-1', process_pid: 4242n, resource_attributes: r[0]!.resource_attributes as object });
    expect(r[3]).toMatchObject({
      service_name: 'db',
      host_name: null,
      service_version: '1.2.3',
      process_pid: null,
      resource_attributes: { 'service.name': 'db', 'process.pid': 'not-a-number' },
    });
  });

  it('stores the same rows from protobufjs objects as from the one-pass decoder', () => {
    const body = toProtobuf('traces', request());
    const wire = convertTracesWire(body, partitioner, PROMOTED);
    const objects = convertTraces(decodeRequest('traces', 'protobuf', body) as ExportTraceServiceRequest, partitioner, PROMOTED);
    expect(summary({ converted: wire })).toEqual(summary({ converted: objects }));
  });

  it('splits a resource once for every builder of a dataset (one spec list)', () => {
    const resource = resourceContext({ attributes: [{ key: 'host.name', value: { value: 'stringValue', stringValue: 'h' } }], droppedAttributesCount: 0 } as never, '');
    const specs = splitSpecs(PROMOTED).resource;
    expect(splitSpecs(PROMOTED).resource).toBe(specs);
    const first = resourceRow(resource, specs);
    expect(resourceRow(resource, specs)).toBe(first);
    expect(Buffer.from(first.values[0] as Uint8Array).toString()).toBe('h');
    expect(first.attributes.keys.ends.length).toBe(0);
  });
});
