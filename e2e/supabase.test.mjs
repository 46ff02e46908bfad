// End-to-end tests: the real @supabase/supabase-js client against a running
// `pgrest-lambda serve`. Run through e2e/run.sh, which starts PostgreSQL, loads
// e2e/schema.sql, starts the server and sets the environment below:
//   PGREST_URL          base URL of the server, e.g. http://127.0.0.1:54399
//   PGREST_ANON_KEY     apikey for role anon         (`pgrest-lambda generate-key anon`)
//   PGREST_SERVICE_KEY  apikey for role service_role (`pgrest-lambda generate-key service_role`)
// The expected values follow the seed rows in e2e/schema.sql. Tests in this file run in
// order; the write tests remove what they add, so the read tests hold on a rerun too.

import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { client, env } from './client.mjs';

const url = env('PGREST_URL');
const anonKey = env('PGREST_ANON_KEY');
const serviceKey = env('PGREST_SERVICE_KEY');

const anon = client(url, anonKey);
const service = client(url, serviceKey);

const SEED_BOOKS = [
  { id: 1, author_id: 1, title: 'A Wizard of Earthsea', year: 1968, status: 'published' },
  { id: 2, author_id: 1, title: 'The Left Hand of Darkness', year: 1969, status: 'published' },
  { id: 3, author_id: 2, title: 'Kindred', year: 1979, status: 'published' },
  { id: 4, author_id: 2, title: 'Parable of the Sower', year: 1993, status: 'published' },
  { id: 5, author_id: 3, title: 'Guards! Guards!', year: 1989, status: 'published' },
  { id: 6, author_id: 3, title: 'Untitled Discworld Draft', year: null, status: 'draft' },
];

// Fails with the whole PostgREST error, so a server bug shows what came back.
function ok(result) {
  assert.equal(result.error, null, `unexpected error: ${JSON.stringify(result.error)}`);
  return result;
}

describe('reads (anon key)', () => {
  test('select with eq, order desc and limit', async () => {
    const res = ok(
      await anon
        .from('books')
        .select('id,title')
        .eq('status', 'published')
        .order('id', { ascending: false })
        .limit(2),
    );
    assert.equal(res.status, 200);
    assert.deepEqual(res.data, [
      { id: 5, title: 'Guards! Guards!' },
      { id: 4, title: 'Parable of the Sower' },
    ]);
  });

  test('select * returns every column of every seed row', async () => {
    const res = ok(await anon.from('books').select('*').order('id'));
    assert.deepEqual(res.data, SEED_BOOKS);
  });

  test('many-to-one embed: books with authors(name)', async () => {
    const res = ok(
      await anon.from('books').select('title, authors(name)').in('id', [1, 3]).order('id'),
    );
    assert.deepEqual(res.data, [
      { title: 'A Wizard of Earthsea', authors: { name: 'Ursula K. Le Guin' } },
      { title: 'Kindred', authors: { name: 'Octavia E. Butler' } },
    ]);
  });

  test('one-to-many embed with an order on the embedded table', async () => {
    const res = ok(
      await anon
        .from('authors')
        .select('name, books(title)')
        .eq('id', 2)
        .order('id', { referencedTable: 'books', ascending: false }),
    );
    assert.deepEqual(res.data, [
      {
        name: 'Octavia E. Butler',
        books: [{ title: 'Parable of the Sower' }, { title: 'Kindred' }],
      },
    ]);
  });

  test('single() on one row returns an object', async () => {
    const res = ok(await anon.from('books').select('id,title').eq('id', 3).single());
    assert.equal(res.status, 200);
    assert.deepEqual(res.data, { id: 3, title: 'Kindred' });
  });

  test('single() on two rows is error PGRST116', async () => {
    const res = await anon.from('books').select('id').eq('author_id', 1).single();
    assert.equal(res.data, null);
    assert.equal(res.status, 406);
    assert.equal(res.error?.code, 'PGRST116');
    assert.equal(res.error?.message, 'Cannot coerce the result to a single JSON object');
    assert.equal(res.error?.details, 'The result contains 2 rows');
  });

  test('maybeSingle() on zero rows gives null data and no error', async () => {
    const res = ok(await anon.from('books').select('id').eq('id', 999).maybeSingle());
    assert.equal(res.status, 200);
    assert.equal(res.data, null);
  });

  test('maybeSingle() on one row gives the row', async () => {
    const res = ok(await anon.from('authors').select('*').eq('id', 3).maybeSingle());
    assert.deepEqual(res.data, { id: 3, name: 'Terry Pratchett' });
  });

  test("count: 'exact' returns the count with the rows", async () => {
    const res = ok(await anon.from('books').select('*', { count: 'exact' }).order('id'));
    assert.equal(res.count, 6);
    assert.deepEqual(res.data, SEED_BOOKS);
  });

  test("count: 'exact', head: true returns the count and null data", async () => {
    const res = ok(
      await anon
        .from('books')
        .select('*', { count: 'exact', head: true })
        .eq('status', 'published'),
    );
    assert.equal(res.status, 200);
    assert.equal(res.count, 5);
    assert.equal(res.data, null);
  });

  test('in()', async () => {
    const res = ok(await anon.from('books').select('id').in('id', [1, 3, 5, 42]).order('id'));
    assert.deepEqual(res.data, [{ id: 1 }, { id: 3 }, { id: 5 }]);
  });

  test('in() with strings that need quoting', async () => {
    const res = ok(
      await anon
        .from('books')
        .select('id')
        .in('title', ['Guards! Guards!', 'Kindred', 'No, such'])
        .order('id'),
    );
    assert.deepEqual(res.data, [{ id: 3 }, { id: 5 }]);
  });

  test('or()', async () => {
    const res = ok(
      await anon.from('books').select('id').or('year.lt.1970,status.eq.draft').order('id'),
    );
    assert.deepEqual(res.data, [{ id: 1 }, { id: 2 }, { id: 6 }]);
  });

  test("is('year', null)", async () => {
    const res = ok(await anon.from('books').select('id,title').is('year', null));
    assert.deepEqual(res.data, [{ id: 6, title: 'Untitled Discworld Draft' }]);
  });

  test('not is null, gte and lt together', async () => {
    const res = ok(
      await anon
        .from('books')
        .select('id')
        .not('year', 'is', null)
        .gte('year', 1969)
        .lt('year', 1990)
        .order('year'),
    );
    assert.deepEqual(res.data, [{ id: 2 }, { id: 3 }, { id: 5 }]);
  });

  test('ilike() is case-insensitive', async () => {
    const res = ok(await anon.from('books').select('title').ilike('title', '%OF%').order('id'));
    assert.deepEqual(res.data, [
      { title: 'A Wizard of Earthsea' },
      { title: 'The Left Hand of Darkness' },
      { title: 'Parable of the Sower' },
    ]);
  });

  test('range() with an exact count', async () => {
    const res = ok(
      await anon.from('books').select('id', { count: 'exact' }).order('id').range(1, 3),
    );
    assert.deepEqual(res.data, [{ id: 2 }, { id: 3 }, { id: 4 }]);
    assert.equal(res.count, 6);
  });

  test('rpc() on a scalar function (POST)', async () => {
    const res = ok(await anon.rpc('add_numbers', { a: 2, b: 3 }));
    assert.equal(res.status, 200);
    assert.equal(res.data, 5);
  });

  test('rpc() on a scalar function with get: true', async () => {
    const res = ok(await anon.rpc('add_numbers', { a: 40, b: 2 }, { get: true }));
    assert.equal(res.data, 42);
  });

  test('rpc() on a set-returning function with select and order', async () => {
    const res = ok(
      await anon
        .rpc('books_between', { from_year: 1970, to_year: 1990 })
        .select('id,title')
        .order('year'),
    );
    assert.deepEqual(res.data, [
      { id: 3, title: 'Kindred' },
      { id: 5, title: 'Guards! Guards!' },
    ]);
  });

  test('unknown table is error PGRST205', async () => {
    const res = await anon.from('no_such_table').select('*');
    assert.equal(res.data, null);
    assert.equal(res.status, 404);
    assert.equal(res.error?.code, 'PGRST205');
    assert.equal(
      res.error?.message,
      "Could not find the table 'public.no_such_table' in the schema cache",
    );
  });

  test('unknown column is error 42703', async () => {
    const res = await anon.from('books').select('id,no_such_column');
    assert.equal(res.data, null);
    assert.equal(res.status, 400);
    assert.equal(res.error?.code, '42703');
  });
});

describe('writes', () => {
  test('anon cannot insert: error 42501', async () => {
    const res = await anon.from('authors').insert({ name: 'Not Allowed' }).select();
    assert.equal(res.data, null);
    assert.equal(res.error?.code, '42501');
    assert.equal(res.error?.message, 'permission denied for table authors');
    // PostgREST: 42501 is 401 when the request's role is the anon role, 403 otherwise.
    assert.equal(res.status, 401, 'a permission error for the anon role is 401, as in PostgREST');
    const after = ok(await anon.from('authors').select('id', { count: 'exact', head: true }));
    assert.equal(after.count, 3);
  });

  describe('insert, update, delete one book (service key)', () => {
    let id;

    test('insert().select() returns the new row', async () => {
      const res = ok(
        await service
          .from('books')
          .insert({ author_id: 3, title: 'Mort', year: 1987, status: 'published' })
          .select(),
      );
      assert.equal(res.status, 201);
      assert.equal(res.data.length, 1);
      id = res.data[0].id;
      assert.equal(typeof id, 'number');
      assert.ok(id > 6, `new id ${id} should follow the seed ids`);
      assert.deepEqual(res.data, [
        { id, author_id: 3, title: 'Mort', year: 1987, status: 'published' },
      ]);
    });

    test('the anon key then reads the inserted row', async () => {
      const res = ok(
        await anon.from('books').select('title, year, authors(name)').eq('id', id).single(),
      );
      assert.deepEqual(res.data, {
        title: 'Mort',
        year: 1987,
        authors: { name: 'Terry Pratchett' },
      });
    });

    test('update().eq().select() returns the changed row', async () => {
      const res = ok(
        await service
          .from('books')
          .update({ title: 'Mort (revised)', year: 1988 })
          .eq('id', id)
          .select(),
      );
      assert.equal(res.status, 200);
      assert.deepEqual(res.data, [
        { id, author_id: 3, title: 'Mort (revised)', year: 1988, status: 'published' },
      ]);
    });

    test('delete().eq() removes the row', async () => {
      const res = ok(await service.from('books').delete().eq('id', id));
      assert.equal(res.status, 204);
      assert.equal(res.data, null);
      const after = ok(await anon.from('books').select('id').eq('id', id));
      assert.deepEqual(after.data, []);
    });
  });

  test('insert without select returns 201 and no data; column default applies', async () => {
    const title = 'Default Status Book';
    const res = ok(await service.from('books').insert({ author_id: 1, title }));
    assert.equal(res.status, 201);
    assert.equal(res.data, null);
    const row = ok(await anon.from('books').select('title,year,status').eq('title', title).single());
    assert.deepEqual(row.data, { title, year: null, status: 'draft' });
    const del = ok(await service.from('books').delete().eq('title', title).select('title'));
    assert.deepEqual(del.data, [{ title }]);
  });

  // supabase-js sends an array insert with ?columns=<union of the keys>, so the objects
  // may have different keys. Missing keys become NULL by default (defaultToNull: true) ...
  test('bulk insert of objects with different keys: missing keys become null', async () => {
    const res = ok(
      await service
        .from('books')
        .insert([
          { author_id: 2, title: 'Bulk One', year: 2000, status: 'published' },
          { author_id: 2, title: 'Bulk Two', status: 'draft' },
        ])
        .select('title,year,status'),
    );
    assert.equal(res.status, 201);
    assert.deepEqual(res.data, [
      { title: 'Bulk One', year: 2000, status: 'published' },
      { title: 'Bulk Two', year: null, status: 'draft' },
    ]);
    const del = ok(
      await service
        .from('books')
        .delete()
        .in('title', ['Bulk One', 'Bulk Two'])
        .select('title')
        .order('title'),
    );
    assert.deepEqual(del.data, [{ title: 'Bulk One' }, { title: 'Bulk Two' }]);
  });

  // ... and take the column default with defaultToNull: false (Prefer: missing=default).
  test('bulk insert with defaultToNull: false fills missing keys with column defaults', async () => {
    const res = ok(
      await service
        .from('books')
        .insert(
          [
            { author_id: 2, title: 'Bulk Three', year: 2001, status: 'published' },
            { author_id: 2, title: 'Bulk Four' },
          ],
          { defaultToNull: false },
        )
        .select('title,year,status'),
    );
    assert.equal(res.status, 201);
    assert.deepEqual(res.data, [
      { title: 'Bulk Three', year: 2001, status: 'published' },
      { title: 'Bulk Four', year: null, status: 'draft' },
    ]);
    const del = ok(
      await service
        .from('books')
        .delete()
        .in('title', ['Bulk Three', 'Bulk Four'])
        .select('title')
        .order('title'),
    );
    assert.deepEqual(del.data, [{ title: 'Bulk Four' }, { title: 'Bulk Three' }]);
  });

  test("upsert with onConflict: 'id' inserts, then updates, then ignores duplicates", async () => {
    const first = ok(
      await service
        .from('authors')
        .upsert({ id: 100, name: 'N. K. Jemisin' }, { onConflict: 'id' })
        .select(),
    );
    assert.equal(first.status, 201); // a row was inserted
    assert.deepEqual(first.data, [{ id: 100, name: 'N. K. Jemisin' }]);

    const second = ok(
      await service
        .from('authors')
        .upsert({ id: 100, name: 'Nora K. Jemisin' }, { onConflict: 'id' })
        .select(),
    );
    assert.equal(second.status, 200); // merge-duplicates that only updated
    assert.deepEqual(second.data, [{ id: 100, name: 'Nora K. Jemisin' }]);

    const ignored = ok(
      await service
        .from('authors')
        .upsert({ id: 100, name: 'Ignored' }, { onConflict: 'id', ignoreDuplicates: true })
        .select(),
    );
    assert.deepEqual(ignored.data, []);

    const now = ok(await anon.from('authors').select('*').eq('id', 100).single());
    assert.deepEqual(now.data, { id: 100, name: 'Nora K. Jemisin' });

    const del = ok(await service.from('authors').delete().eq('id', 100).select());
    assert.deepEqual(del.data, [{ id: 100, name: 'Nora K. Jemisin' }]);
  });

  test('the seed data is unchanged after the writes', async () => {
    const books = ok(await anon.from('books').select('*').order('id'));
    assert.deepEqual(books.data, SEED_BOOKS);
    const authors = ok(await anon.from('authors').select('*', { count: 'exact' }).order('id'));
    assert.equal(authors.count, 3);
    assert.deepEqual(authors.data, [
      { id: 1, name: 'Ursula K. Le Guin' },
      { id: 2, name: 'Octavia E. Butler' },
      { id: 3, name: 'Terry Pratchett' },
    ]);
  });
});
