// Block Storage 3.15 (ETAGS): the volume metadata ETag is the MD5 of Python's json.dumps of
// {"metadata": ...} (oslo jsonutils: ", " / ": " separators, non-ASCII and DEL escaped), and If-Match
// is read as webob reads it. The expected values were computed with CPython's json and hashlib.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ifMatchTags, metadataEtag, pythonMetadataJson } from '../../shared/volume/volumes/metadata';

test("metadata ETags are Cinder's: MD5 of Python's JSON", () => {
  assert.equal(pythonMetadataJson({}), '{"metadata": {}}');
  assert.equal(metadataEtag({}), '28ea041cc3f26b287319d2de3c107b50');
  assert.equal(metadataEtag({ a: 'b' }), '9ee9db81deeab2410feda04edb7e27ad');
  assert.equal(pythonMetadataJson({ key1: 'vanue1', key2: 'value2' }), '{"metadata": {"key1": "vanue1", "key2": "value2"}}');
  assert.equal(metadataEtag({ key1: 'vanue1', key2: 'value2' }), '6883f54511eaf1277d757247a1ad2d92');
  const odd = { k: 'caf\u00e9 \u{1F600} \x7f \n\t"\\ /' };
  assert.equal(pythonMetadataJson(odd), '{"metadata": {"k": "caf\\u00e9 \\ud83d\\ude00 \\u007f \\n\\t\\"\\\\ /"}}');
  assert.equal(metadataEtag(odd), '5e8313b9c6ad792232d88efee2ee3fb8');
});

test('If-Match as webob reads it (strong tags)', () => {
  assert.equal(ifMatchTags(undefined), undefined);
  assert.equal(ifMatchTags(''), undefined);
  assert.equal(ifMatchTags('*'), undefined);
  assert.deepEqual(ifMatchTags('abc'), ['abc']);
  assert.deepEqual(ifMatchTags('"abc"'), ['abc']);
  assert.deepEqual(ifMatchTags('"a", "b"'), ['a', 'b']);
  assert.deepEqual(ifMatchTags('W/"a", "b"'), ['b']);
  assert.deepEqual(ifMatchTags('W/"a"'), []);
});
