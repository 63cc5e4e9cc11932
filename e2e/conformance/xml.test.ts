import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConformanceError } from './selections.js';
import { findAll, parseXml } from './xml.js';

describe('parseXml', () => {
  it('reads elements, attributes, text, entities, CDATA and skips declarations and comments', () => {
    const root = parseXml(
      `<?xml version="1.0"?>\n<!DOCTYPE x>\n<a k="1 &amp; 2" j='&#34;q&#34;'><!-- c --><b/>t&lt;&#xA;<c x="y">in<![CDATA[<raw>&]]></c></a>\n`,
    );
    assert.equal(root.name, 'a');
    assert.deepEqual(root.attrs, { k: '1 & 2', j: '"q"' });
    assert.deepEqual(
      root.children.map((c) => c.name),
      ['b', 'c'],
    );
    assert.equal(root.text, 't<\n');
    assert.equal(root.children[1]?.text, 'in<raw>&');
    assert.deepEqual(root.children[0], { name: 'b', attrs: {}, children: [], text: '' });
  });

  it('finds descendants in document order', () => {
    const root = parseXml('<r><s><t n="1"/></s><t n="2"><t n="3"/></t></r>');
    assert.deepEqual(
      findAll(root, 't').map((t) => t.attrs.n),
      ['1', '2', '3'],
    );
  });

  const bad: Array<[string, string]> = [
    ['a mismatched close', '<a><b></a></b>'],
    ['an unclosed element', '<a><b>'],
    ['a bare ampersand', '<a>x & y</a>'],
    ['an unknown entity', '<a>&nbsp;</a>'],
    ['two roots', '<a/><b/>'],
    ['text outside the root', 'x<a/>'],
    ['no root', '<?xml version="1.0"?>'],
    ['an unterminated comment', '<a><!-- </a>'],
    ['a malformed tag', '<a b=1></a>'],
  ];
  for (const [what, src] of bad) {
    it(`rejects ${what}`, () => {
      assert.throws(
        () => parseXml(src),
        (e: unknown) => e instanceof ConformanceError && e.code === 'EXML',
      );
    });
  }
});
