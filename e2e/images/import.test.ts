import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  NodeImagesError,
  parseArchiveRecord,
  parseCriImages,
  parseCtrImagesLs,
  readNodeImageArchives,
} from './import.js';

const DIGEST = `sha256:${'ab'.repeat(32)}`;
const record = {
  name: 'registry.k8s.io/pause:3.10',
  archive: 'pause-315b05a9edf93e0d.oci.tar',
  digest: DIGEST,
  inputs: '315b05a9edf93e0d',
  bytes: 331264,
};

describe('archive records', () => {
  it('reads a record and resolves its archive against the directory', () => {
    assert.deepEqual(parseArchiveRecord('pause', '/c/node-images', record), {
      key: 'pause',
      name: 'registry.k8s.io/pause:3.10',
      archive: '/c/node-images/pause-315b05a9edf93e0d.oci.tar',
      digest: DIGEST,
      bytes: 331264,
    });
  });

  const broken: [string, unknown][] = [
    ['no tag', { ...record, name: 'registry.k8s.io/pause' }],
    ['no registry', { ...record, name: 'pause:3.10' }],
    ['archive outside the dir', { ...record, archive: '../pause.oci.tar' }],
    ['short digest', { ...record, digest: 'sha256:abc' }],
    ['bytes a string', { ...record, bytes: '1' }],
    ['not an object', 'pause'],
  ];
  for (const [what, value] of broken) {
    it(`refuses a record with ${what}`, () => {
      assert.throws(() => parseArchiveRecord('pause', '/c', value), NodeImagesError);
    });
  }

  it('lists the records of a directory by key and says what to run when there are none', () => {
    const dir = mkdtempSync(join(tmpdir(), 'weft-node-images-'));
    try {
      assert.throws(() => readNodeImageArchives(dir), /run e2e\/images\/build\.sh/);
      writeFileSync(join(dir, 'pause.json'), JSON.stringify(record));
      writeFileSync(
        join(dir, 'agnhost.json'),
        JSON.stringify({
          ...record,
          name: 'registry.k8s.io/e2e-test-images/agnhost:2.53',
          archive: 'agnhost-1.oci.tar',
        }),
      );
      writeFileSync(join(dir, '.pause.json.tmp'), '{');
      writeFileSync(join(dir, 'pause-315b05a9edf93e0d.oci.tar'), '');
      assert.deepEqual(
        readNodeImageArchives(dir).map((a) => a.key),
        ['agnhost', 'pause'],
      );
      writeFileSync(join(dir, 'coredns.json'), '{');
      assert.throws(() => readNodeImageArchives(dir), /coredns\.json: not JSON/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('ctr images ls', () => {
  it('reads name, type and digest; the size column holds a space', () => {
    const out = [
      'REF                                           TYPE                                    DIGEST                                                                  SIZE      PLATFORMS   LABELS ',
      `registry.k8s.io/e2e-test-images/agnhost:2.53 application/vnd.oci.image.manifest.v1+json ${DIGEST} 61.2 MiB  linux/amd64 io.cri-containerd.image=managed `,
      `registry.k8s.io/pause:3.10                    application/vnd.oci.image.manifest.v1+json ${DIGEST} 323.2 KiB linux/amd64 io.cri-containerd.image=managed,io.cri-containerd.pinned=pinned `,
      '',
    ].join('\n');
    assert.deepEqual(parseCtrImagesLs(out), [
      {
        name: 'registry.k8s.io/e2e-test-images/agnhost:2.53',
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        digest: DIGEST,
      },
      {
        name: 'registry.k8s.io/pause:3.10',
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        digest: DIGEST,
      },
    ]);
  });

  it('reads an empty store and refuses output it does not know', () => {
    assert.deepEqual(parseCtrImagesLs('REF TYPE DIGEST SIZE PLATFORMS LABELS\n'), []);
    assert.throws(() => parseCtrImagesLs('NAME ID\nx y\n'), /unexpected header/);
    assert.throws(() => parseCtrImagesLs('REF TYPE DIGEST SIZE\nx y z 1 MiB\n'), /cannot read line/);
  });
});

describe('crictl images -o json', () => {
  it('reads tags and the pinned flag', () => {
    const json = JSON.stringify({
      images: [
        {
          id: 'sha256:1',
          repoTags: ['registry.k8s.io/pause:3.10'],
          repoDigests: [],
          size: '690849',
          pinned: true,
        },
        { id: 'sha256:2', repoTags: ['registry.k8s.io/e2e-test-images/agnhost:2.53'], size: '1' },
      ],
    });
    assert.deepEqual(parseCriImages(json), [
      { id: 'sha256:1', repoTags: ['registry.k8s.io/pause:3.10'], pinned: true },
      { id: 'sha256:2', repoTags: ['registry.k8s.io/e2e-test-images/agnhost:2.53'], pinned: false },
    ]);
    assert.throws(() => parseCriImages('{}'), /no "images" array/);
  });
});
