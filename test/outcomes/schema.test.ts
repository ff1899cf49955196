import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TableClient } from '@azure/data-tables';
import Ajv from 'ajv';
import type { RemediationOutcome } from '../../src/engine/types';
import { OPENAPI_DOCUMENT } from '../../src/http/openapi';
import { toLedgerEntry } from '../../src/ledger/ledger-recorder';
import { MemoryLedger } from '../../src/ledger/memory-ledger';
import { TableLedger } from '../../src/ledger/table-ledger';
import { LEDGER_OUTCOME_OMITS, LedgerEntrySchema } from '../../src/ledger/types';
import { fieldsOf, type OutcomeRecord, OutcomeSchema, type SameKeys } from '../../src/outcomes/schema';
import { OUTCOME_LOG_OMITS, OutcomeLogSchema, summarizeOutcome } from '../../src/outcomes/summary';
import { useAzurite } from '../support/azurite';

/**
 * The outcome is written once (src/outcomes/schema.ts); the ledger row, the log line and the OpenAPI
 * document are derived from it. These tests fail when one of them is written out by hand again and a
 * field is added in one place only.
 */

type Json = { [key: string]: any };

/** A value for every property of a JSON schema, optional ones too: an outcome with every field set. */
function sample(schema: Json): unknown {
  if (schema.enum) return schema.enum[0];
  if (schema.type === 'string') return schema.format === 'date-time' ? '2026-01-01T00:00:00.000Z' : 'text';
  if (schema.type === 'number' || schema.type === 'integer') return 7;
  if (schema.type === 'boolean') return true;
  if (schema.type === 'array') return [sample(schema.items)];
  if (schema.type === 'object')
    return Object.fromEntries(Object.entries((schema.properties ?? {}) as Json).map(([k, v]) => [k, sample(v)]));
  return 'unknown';
}

const EVERY_FIELD = sample(OutcomeSchema) as RemediationOutcome;
const OUTCOME_FIELDS = fieldsOf(OutcomeSchema);
const components = OPENAPI_DOCUMENT.components.schemas as Record<string, Json>;
const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });

/** The OpenAPI document, as served, validating one of its components. */
const openApi = (() => {
  const validator = new Ajv({ strict: false, allErrors: true, validateFormats: false });
  validator.addSchema({ ...JSON.parse(JSON.stringify(OPENAPI_DOCUMENT)), $id: 'openapi' });
  return (component: string, value: unknown) => {
    const validate = validator.compile({ $ref: `openapi#/components/schemas/${component}` });
    assert.ok(validate(value), `${component}: ${validator.errorsText(validate.errors)}`);
  };
})();

/** A Table client that keeps entities in a map, for the table ledger's entity round trip. */
describe('one outcome schema: ledger row, log line and OpenAPI derived from it', () => {
  // The table ledger is judged against Azurite's Table service, not a stand-in of the SDK client.
  const storage = useAzurite();

  it('the sample outcome sets every field of the schema and fits it', () => {
    assert.deepEqual(Object.keys(EVERY_FIELD), OUTCOME_FIELDS);
    assert.ok(ajv.validate(OutcomeSchema, EVERY_FIELD), ajv.errorsText());
  });

  it("the OpenAPI Outcome component lists exactly the schema's fields, and the same required ones", () => {
    const outcome = components.Outcome!;
    assert.deepEqual(Object.keys(outcome.properties), OUTCOME_FIELDS);
    assert.deepEqual(outcome.required, OutcomeSchema.required);
    openApi('Outcome', EVERY_FIELD);
    // Sub-schemas with an $id are components the outcome refers to.
    assert.deepEqual(outcome.properties.grantee, { $ref: '#/components/schemas/Grantee' });
    assert.equal(components.Grantee!.type, 'object');
    assert.equal(components.WorkloadIdentity!.type, 'object');
  });

  it('the ledger row keeps every outcome field but the declared ones, and the OpenAPI LedgerEntry lists exactly its fields', async () => {
    assert.deepEqual(
      [...LEDGER_OUTCOME_OMITS],
      ['resourceType', 'deferral'],
      'a field kept out of the ledger is a decision: change this test with it',
    );
    const entry = toLedgerEntry(EVERY_FIELD, { trigger: 'queue', requestId: '5f0e2b8e-8d4b-4c43-9a55-6c2c1f0e2b8e', eventId: 'evt-1' });
    for (const field of OUTCOME_FIELDS) {
      if ((LEDGER_OUTCOME_OMITS as readonly string[]).includes(field)) continue;
      assert.deepEqual(entry[field as keyof typeof entry], EVERY_FIELD[field], `the ledger row carries ${field}`);
    }
    assert.deepEqual(entry.deferral, { reason: 'text', detail: 'text', retryAt: entry.deferral!.retryAt, attempt: 7 });
    assert.deepEqual(Object.keys(components.LedgerEntry!.properties).sort(), fieldsOf(LedgerEntrySchema).sort());
    assert.deepEqual(Object.keys(entry).sort(), fieldsOf(LedgerEntrySchema).sort(), 'the row sets every field of its schema, and no other');
    openApi('LedgerEntry', entry);

    // Both stores give the row back as written: the table one stores the schema's objects and arrays as JSON text.
    const memory = new MemoryLedger();
    await memory.append(entry);
    assert.deepEqual(await memory.byRequestId(entry.requestId), entry);
    const client = TableClient.fromConnectionString(storage.azurite.connectionString, 'schemaledger', { allowInsecureConnection: true });
    await client.createTable();
    const table = new TableLedger(client);
    await table.append(entry);
    assert.deepEqual(await table.byRequestId(entry.requestId), entry);
  });

  it('the log line keeps every outcome field but the declared ones, and fits its schema', () => {
    assert.deepEqual(
      [...OUTCOME_LOG_OMITS],
      ['plan', 'startedAt', 'deferral'],
      'a field kept out of the log line is a decision: change this test with it',
    );
    const line = summarizeOutcome(EVERY_FIELD) as Record<string, unknown>;
    for (const field of OUTCOME_FIELDS) {
      if ((OUTCOME_LOG_OMITS as readonly string[]).includes(field)) continue;
      assert.deepEqual(line[field], EVERY_FIELD[field], `the log line carries ${field}`);
    }
    assert.deepEqual(line.deferral, { reason: 'text', detail: 'text', retryAfterSeconds: 1, attempt: 7 });
    assert.deepEqual(
      Object.keys(line).sort(),
      fieldsOf(OutcomeLogSchema)
        .filter((f) => f !== 'dapr')
        .sort(),
    );
    assert.ok(ajv.validate(OutcomeLogSchema, line), ajv.errorsText());
  });

  it('a Dapr plan is summarised on the log line', () => {
    const component = {
      name: 'state',
      id: '/c/state',
      componentType: 'state.azure.cosmosdb',
      status: 'grants' as const,
      targets: [],
      problems: [],
      clientId: { action: 'none' as const, detail: 'right' },
    };
    const outcome = {
      ...EVERY_FIELD,
      plan: { dapr: { appId: 'orders', environmentId: '/env', components: [component] } },
    } as unknown as RemediationOutcome;
    const line = summarizeOutcome(outcome);
    assert.deepEqual(line.dapr, {
      appId: 'orders',
      components: [
        {
          name: 'state',
          componentType: 'state.azure.cosmosdb',
          status: 'grants',
          targets: [],
          clientId: { action: 'none', detail: 'right' },
        },
      ],
    });
    assert.ok(ajv.validate(OutcomeLogSchema, line), ajv.errorsText());
  });

  it("the engine's outcome type and the schema are tied at compile time", () => {
    const same: SameKeys<OutcomeRecord, RemediationOutcome> = true;
    // @ts-expect-error: a field the engine's outcome has and the schema does not is a type error.
    const engineOnly: SameKeys<OutcomeRecord, RemediationOutcome & { addedInTheEngineOnly: string }> = true;
    // @ts-expect-error: and so is one the schema has and the engine's outcome does not.
    const schemaOnly: SameKeys<OutcomeRecord & { addedInTheSchemaOnly: string }, RemediationOutcome> = true;
    assert.ok(same && engineOnly && schemaOnly);
  });
});
