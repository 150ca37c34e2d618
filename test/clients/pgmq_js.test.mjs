// test/clients/pgmq_js.test.mjs owns the third-party client check: pgmq-js
// (pinned in package.json, installed unmodified by `npm ci`) drives every
// method it offers against the running server, and every result is checked.
//
// The SQL each method sends (read from node_modules/pgmq-js/dist) is listed in
// docs/clients.md. node-postgres sends every parameter untyped (type OID 0), so
// this also shows how the overload set resolves for a real driver; the last
// test runs the untyped call shapes other drivers use directly through `pg`.
//
// Connection: the usual PGHOST/PGPORT/PGUSER/PGDATABASE (set by the harness).
// Run: node test/clients/pgmq_js.test.mjs   (exit status 1 on any failure)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { Pgmq } from 'pgmq-js';

const conn = {
    host: process.env.PGHOST ?? 'localhost',
    port: Number(process.env.PGPORT ?? 5432),
    user: process.env.PGUSER ?? 'postgres',
    password: process.env.PGPASSWORD ?? '',
    database: process.env.PGDATABASE ?? 'postgres',
    ssl: false, // pgmq-js turns SSL on unless told otherwise
};

const Q = 'js_queue';
const UNLOGGED = 'js_unlogged';

let pgmq; // the client under test
let sql; // a plain node-postgres client, to look behind the client's back

// Run a statement and return the SQLSTATE it fails with, or 'ok'.
async function sqlstate(text, params) {
    try {
        await sql.query(text, params);
        return 'ok';
    } catch (e) {
        return e.code ?? String(e);
    }
}

// The number of rows in pgmq.<prefix>_<queue>.
async function rowCount(prefix, queue) {
    const r = await sql.query(`SELECT count(*)::int AS n FROM pgmq.${prefix}_${queue}`);
    return r.rows[0].n;
}

before(async () => {
    // Pgmq.new runs CREATE EXTENSION IF NOT EXISTS pgmq CASCADE.
    pgmq = await Pgmq.new(conn);
    sql = new pg.Client(conn);
    await sql.connect();
    await sql.query('SET client_min_messages = warning');
    for (const q of [Q, UNLOGGED]) {
        await sql.query('SELECT pgmq.drop_queue($1)', [q]);
    }
});

after(async () => {
    if (sql) {
        for (const q of [Q, UNLOGGED]) {
            await sql.query('SELECT pgmq.drop_queue($1)', [q]);
        }
        await sql.end();
    }
    if (pgmq) await pgmq.close();
});

test('queue.create / createUnlogged / list', async () => {
    await pgmq.queue.create(Q);
    await pgmq.queue.create(Q); // a queue that already exists: no error
    await pgmq.queue.createUnlogged(UNLOGGED);

    const queues = await pgmq.queue.list();
    const mine = Object.fromEntries(queues.map((q) => [q.name, q]));
    assert.ok(mine[Q], `list() has ${Q}: ${JSON.stringify(queues)}`);
    assert.ok(mine[UNLOGGED], `list() has ${UNLOGGED}`);
    assert.equal(queues.filter((q) => q.name === Q).length, 1, 'create twice = one queue');
    assert.equal(mine[Q].isPartitioned, false);
    assert.equal(mine[Q].isUnlogged, false);
    assert.equal(mine[UNLOGGED].isPartitioned, false);
    assert.equal(mine[UNLOGGED].isUnlogged, true);

    // list() splits the composite's text form on commas and gives the
    // (still double-quoted) timestamp to new Date(), which V8 accepts.
    const age = Date.now() - mine[Q].createdAt.getTime();
    assert.ok(age >= -5000 && age < 60000, `createdAt is recent: ${mine[Q].createdAt}`);
    // The client reads the composite as text: field order is part of the API.
    const text = await sql.query('SELECT pgmq.list_queues()::text AS t');
    const line = text.rows.map((r) => r.t).find((t) => t.startsWith(`(${Q},`));
    assert.match(line, new RegExp(`^\\(${Q},f,f,"[0-9-]+ [0-9:.]+[+-][0-9:]+"\\)$`));

    // The unlogged queue really has an unlogged q_ table and a logged a_ table.
    const persistence = await sql.query(
        `SELECT relname, relpersistence FROM pg_class
          WHERE relnamespace = 'pgmq'::regnamespace AND relname IN ($1, $2) ORDER BY relname`,
        [`a_${UNLOGGED}`, `q_${UNLOGGED}`]);
    assert.deepEqual(persistence.rows, [
        { relname: `a_${UNLOGGED}`, relpersistence: 'p' },
        { relname: `q_${UNLOGGED}`, relpersistence: 'u' },
    ]);
});

test('msg.send / sendBatch', async () => {
    const id1 = await pgmq.msg.send(Q, { n: 1 });
    assert.equal(typeof id1, 'number');
    assert.ok(Number.isInteger(id1) && id1 > 0);

    const batch = await pgmq.msg.sendBatch(Q, [{ n: 2 }, { n: 3 }, { n: 4 }]);
    assert.deepEqual(batch, [id1 + 1, id1 + 2, id1 + 3], 'send_batch ids in input order');

    // A delayed message is sent (delay integer overload) but not visible yet.
    const delayed = await pgmq.msg.send(Q, { n: 'later' }, 60);
    assert.equal(delayed, id1 + 4);
    const delayedBatch = await pgmq.msg.sendBatch(Q, [{ n: 'later2' }], 60);
    assert.deepEqual(delayedBatch, [id1 + 5]);

    const rows = await sql.query(
        `SELECT msg_id::int AS id, message, read_ct, vt > clock_timestamp() AS hidden
           FROM pgmq.q_${Q} ORDER BY msg_id`);
    assert.deepEqual(rows.rows, [
        { id: id1, message: { n: 1 }, read_ct: 0, hidden: false },
        { id: id1 + 1, message: { n: 2 }, read_ct: 0, hidden: false },
        { id: id1 + 2, message: { n: 3 }, read_ct: 0, hidden: false },
        { id: id1 + 3, message: { n: 4 }, read_ct: 0, hidden: false },
        { id: id1 + 4, message: { n: 'later' }, read_ct: 0, hidden: true },
        { id: id1 + 5, message: { n: 'later2' }, read_ct: 0, hidden: true },
    ]);

    // Unknown queue: a clear error from the server, passed through.
    await assert.rejects(pgmq.msg.send('js_no_such_queue', { x: 1 }),
        (e) => e.code === '42P01' && /js_no_such_queue/.test(e.message));
});

test('queue.getMetrics / getAllMetrics', async () => {
    const m = await pgmq.queue.getMetrics(Q);
    assert.equal(m.queueName, Q);
    assert.equal(m.queueLength, 6);
    assert.equal(m.totalMessages, 6);
    assert.equal(typeof m.newestMsgAgeSec, 'number');
    assert.equal(typeof m.oldestMsgAgeSec, 'number');
    assert.ok(m.oldestMsgAgeSec >= m.newestMsgAgeSec && m.newestMsgAgeSec >= 0);
    assert.ok(m.scrapeTime instanceof Date && !Number.isNaN(m.scrapeTime.getTime()));

    const empty = await pgmq.queue.getMetrics(UNLOGGED);
    assert.equal(empty.queueLength, 0);
    assert.equal(empty.totalMessages, 0);
    assert.equal(empty.newestMsgAgeSec, undefined, 'ages are NULL on an empty queue');
    assert.equal(empty.oldestMsgAgeSec, undefined);

    const all = await pgmq.queue.getAllMetrics();
    const byName = Object.fromEntries(all.map((x) => [x.queueName, x]));
    assert.equal(byName[Q]?.queueLength, 6);
    assert.equal(byName[UNLOGGED]?.queueLength, 0);
});

test('msg.read / readBatch', async () => {
    const first = await pgmq.msg.read(Q, 30);
    assert.ok(first, 'read() returned a message');
    assert.deepEqual(first.message, { n: 1 });
    assert.equal(first.readCount, 1);
    assert.ok(first.enqueuedAt instanceof Date && !Number.isNaN(first.enqueuedAt.getTime()));
    assert.ok(first.vt.getTime() > Date.now() + 20000, 'vt is about 30 s ahead');

    const rest = await pgmq.msg.readBatch(Q, 30, 10);
    assert.deepEqual(rest.map((m) => m.message), [{ n: 2 }, { n: 3 }, { n: 4 }],
        'only visible messages, oldest first');
    assert.deepEqual(rest.map((m) => m.msgId), [first.msgId + 1, first.msgId + 2, first.msgId + 3]);
    assert.ok(rest.every((m) => m.readCount === 1));

    assert.deepEqual(await pgmq.msg.readBatch(Q, 30, 10), [], 'everything is in flight');
    assert.equal(await pgmq.msg.read(Q), undefined, 'read() of nothing visible');

    // vt = 0 (the client's default for read): read without hiding.
    await sql.query(`UPDATE pgmq.q_${Q} SET vt = clock_timestamp() WHERE msg_id = $1`, [first.msgId]);
    const again = await pgmq.msg.read(Q);
    assert.equal(again.msgId, first.msgId);
    assert.equal(again.readCount, 2);
    const third = await pgmq.msg.read(Q);
    assert.equal(third?.msgId, first.msgId, 'vt = 0 left it visible');
    assert.equal(third.readCount, 3);
});

test('msg.setVt: the client sends an ambiguous call (reference API), typed form works', async () => {
    const [target] = (await sql.query(`SELECT msg_id::int AS id FROM pgmq.q_${Q} ORDER BY msg_id OFFSET 1 LIMIT 1`)).rows;
    // pgmq-js sends SELECT * FROM pgmq.set_vt($1, $2, $3) with all three untyped.
    // The reference API has four set_vt overloads (bigint | bigint[] x
    // integer | timestamptz), so PostgreSQL cannot choose: 42725. The PL/pgSQL
    // pgmq 1.11 has the same four overloads, so this fails there as well.
    await assert.rejects(pgmq.msg.setVt(Q, target.id, 0),
        (e) => e.code === '42725' && /set_vt\(unknown, unknown, unknown\) is not unique/.test(e.message));

    // The same statement with the types other clients add works.
    const r = await sql.query('SELECT * FROM pgmq.set_vt($1, $2::bigint, $3::integer)', [Q, target.id, 0]);
    assert.equal(r.rows.length, 1);
    assert.deepEqual(r.fields.map((f) => f.name),
        ['msg_id', 'read_ct', 'enqueued_at', 'last_read_at', 'vt', 'message', 'headers']);
    assert.equal(Number(r.rows[0].msg_id), target.id);
    assert.ok(r.rows[0].vt.getTime() <= Date.now() + 1000);
    const visible = await pgmq.msg.readBatch(Q, 30, 10);
    assert.ok(visible.some((m) => m.msgId === target.id), 'set_vt(…, 0) made it visible again');
});

test('msg.pop', async () => {
    // Make everything visible, then pop them one by one.
    await sql.query(`UPDATE pgmq.q_${Q} SET vt = now() - interval '1 second'`);
    const before = await rowCount('q', Q);
    const popped = await pgmq.msg.pop(Q);
    assert.ok(popped, 'pop() returned a message');
    assert.deepEqual(popped.message, { n: 1 });
    assert.equal(await rowCount('q', Q), before - 1, 'pop deleted the message');
    assert.equal(await rowCount('a', Q), 0, 'pop does not archive');

    await sql.query(`DELETE FROM pgmq.q_${UNLOGGED}`);
    assert.equal(await pgmq.msg.pop(UNLOGGED), undefined, 'pop() on an empty queue');
});

test('msg.archive / archiveBatch', async () => {
    const ids = (await sql.query(`SELECT msg_id::int AS id FROM pgmq.q_${Q} ORDER BY msg_id`)).rows.map((r) => r.id);
    assert.equal(ids.length, 5);

    assert.equal(await pgmq.msg.archive(Q, ids[0]), true);
    assert.equal(await pgmq.msg.archive(Q, ids[0]), false, 'already archived');
    assert.equal(await pgmq.msg.archive(Q, 999999), false, 'no such message');

    const archived = await pgmq.msg.archiveBatch(Q, [ids[1], ids[2], 999999]);
    assert.deepEqual(archived.sort((a, b) => a - b), [ids[1], ids[2]], 'ids actually archived');

    const a = await sql.query(`SELECT msg_id::int AS id, archived_at <= now() AS ok FROM pgmq.a_${Q} ORDER BY msg_id`);
    assert.deepEqual(a.rows, [{ id: ids[0], ok: true }, { id: ids[1], ok: true }, { id: ids[2], ok: true }]);
    assert.equal(await rowCount('q', Q), 2);
});

test('msg.delete / deleteBatch', async () => {
    const extra = await pgmq.msg.sendBatch(Q, [{ d: 1 }, { d: 2 }, { d: 3 }]);
    assert.equal(await pgmq.msg.delete(Q, extra[0]), true);
    assert.equal(await pgmq.msg.delete(Q, extra[0]), false, 'already deleted');

    const deleted = await pgmq.msg.deleteBatch(Q, [extra[1], extra[2], 999999]);
    assert.deepEqual(deleted.sort((a, b) => a - b), [extra[1], extra[2]], 'ids actually deleted');
    assert.deepEqual(await pgmq.msg.deleteBatch(Q, [999999]), []);

    const left = await sql.query(`SELECT count(*)::int AS n FROM pgmq.q_${Q} WHERE msg_id = ANY($1::bigint[])`, [extra]);
    assert.equal(left.rows[0].n, 0);
    assert.equal(await rowCount('a', Q), 3, 'delete does not archive');
});

test('queue.purge / detachArchive', async () => {
    assert.equal(await rowCount('q', Q), 2);
    await pgmq.queue.purge(Q); // the client discards purge_queue's count
    assert.equal(await rowCount('q', Q), 0);
    assert.equal(await rowCount('a', Q), 3, 'purge leaves the archive alone');
    const m = await pgmq.queue.getMetrics(Q);
    assert.equal(m.queueLength, 0);
    assert.equal(m.totalMessages, 9, 'total_messages counts every message ever sent');

    await pgmq.queue.detachArchive(Q); // deprecated no-op (WARNING)
    assert.equal(await rowCount('a', Q), 3);
});

test('queue.drop', async () => {
    await pgmq.queue.drop(Q);
    await pgmq.queue.drop(UNLOGGED);
    await pgmq.queue.drop(Q); // a queue that does not exist: NOTICE, no error
    const names = (await pgmq.queue.list()).map((q) => q.name);
    assert.ok(!names.includes(Q) && !names.includes(UNLOGGED));
    const tables = await sql.query(
        `SELECT count(*)::int AS n FROM pg_class WHERE relnamespace = 'pgmq'::regnamespace
            AND relname IN ($1, $2, $3, $4)`, [`q_${Q}`, `a_${Q}`, `q_${UNLOGGED}`, `a_${UNLOGGED}`]);
    assert.equal(tables.rows[0].n, 0);
});

test('mixed-case queue names come back as created (pgmq 1.13 behaviour)', async () => {
    // the npm client's own suite creates names like this and expects them back
    const MIXED = 'vXAWEBgVet';
    await sql.query('SELECT pgmq.drop_queue($1)', [MIXED]);
    try {
        await pgmq.queue.create(MIXED);
        await pgmq.queue.create(MIXED.toUpperCase()); // any casing: the same queue
        const listed = (await pgmq.queue.list()).filter((q) => q.name.toLowerCase() === MIXED.toLowerCase());
        assert.deepEqual(listed.map((q) => q.name), [MIXED]);

        const id = await pgmq.msg.send(MIXED.toLowerCase(), { c: 1 });
        const m = await pgmq.queue.getMetrics(MIXED);
        assert.equal(m.queueName, MIXED);
        assert.equal(m.queueLength, 1);
        const all = await pgmq.queue.getAllMetrics();
        assert.equal(all.find((x) => x.queueName.toLowerCase() === MIXED.toLowerCase())?.queueName, MIXED);

        const got = await pgmq.msg.read(MIXED, 30);
        assert.equal(Number(got.msgId), Number(id));
        // the tables carry the lower-cased name, as in the PL/pgSQL pgmq
        assert.equal(await rowCount('q', MIXED.toLowerCase()), 1);
    } finally {
        await sql.query('SELECT pgmq.drop_queue($1)', [MIXED]);
    }
});

test('untyped parameters over the wire (node-postgres sends type OID 0)', async () => {
    const q = 'js_untyped';
    // Each call shape drivers send, with every parameter untyped, and the
    // SQLSTATE it gets. 42725 = ambiguous in the reference overload set itself.
    const cases = [
        ['SELECT * FROM pgmq.create($1)', [q], 'ok'],
        ['SELECT * FROM pgmq.send($1, $2)', [q, '{"a":1}'], 'ok'],
        ['SELECT * FROM pgmq.send_batch($1, $2)', [q, ['{"a":2}', '{"a":3}']], 'ok'],
        ['SELECT * FROM pgmq.read($1, $2, $3)', [q, 0, 1], 'ok'],
        ['SELECT * FROM pgmq.read_with_poll($1, $2, $3, $4, $5)', [q, 0, 1, 1, 10], 'ok'],
        ['SELECT * FROM pgmq.pop($1)', [q], 'ok'],
        ['SELECT * FROM pgmq.pop($1, $2)', [q, 1], 'ok'],
        ['SELECT * FROM pgmq.metrics($1)', [q], 'ok'],
        ['SELECT * FROM pgmq.purge_queue($1)', [q], 'ok'],
        ['SELECT * FROM pgmq.archive(queue_name => $1, msg_id => $2)', [q, 1], 'ok'],
        ['SELECT * FROM pgmq.delete(queue_name => $1, msg_ids => $2)', [q, [1]], 'ok'],
        ['SELECT * FROM pgmq.archive($1, $2)', [q, 1], '42725'],
        ['SELECT * FROM pgmq.delete($1, $2)', [q, 1], '42725'],
        ['SELECT * FROM pgmq.set_vt($1, $2, $3)', [q, 1, 0], '42725'],
        ['SELECT * FROM pgmq.send($1, $2, $3)', [q, '{}', 0], '42725'],
        ['SELECT * FROM pgmq.drop_queue($1)', [q], 'ok'],
    ];
    const got = [];
    for (const [text, params] of cases) {
        got.push([text, params, await sqlstate(text, params)]);
    }
    assert.deepEqual(got, cases);

    // Scalar results come back in a column named after the function.
    await sql.query('SELECT pgmq.create($1)', [q]);
    const named = {};
    for (const [fn, text, params] of [
        ['send', 'SELECT * FROM pgmq.send($1, $2)', [q, '{}']],
        ['send_batch', 'SELECT * FROM pgmq.send_batch($1, $2)', [q, ['{}']]],
        ['archive', 'SELECT * FROM pgmq.archive($1, $2::bigint)', [q, 1]],
        ['delete', 'SELECT * FROM pgmq.delete($1, $2::bigint[])', [q, [2]]],
        ['purge_queue', 'SELECT * FROM pgmq.purge_queue($1)', [q]],
        ['drop_queue', 'SELECT * FROM pgmq.drop_queue($1)', [q]],
    ]) {
        const r = await sql.query(text, params);
        named[fn] = [r.fields.map((f) => f.name), r.rows.map((row) => String(row[fn]))];
    }
    assert.deepEqual(named, {
        send: [['send'], ['1']],
        send_batch: [['send_batch'], ['2']],
        archive: [['archive'], ['true']],
        delete: [['delete'], ['2']],
        purge_queue: [['purge_queue'], ['0']],
        drop_queue: [['drop_queue'], ['true']],
    });
});
