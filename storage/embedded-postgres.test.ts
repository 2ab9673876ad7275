import { describe, expect, it } from 'vitest';
import { embeddedServerSettings } from './embedded-postgres.js';

const GB = 1024 ** 3;

describe('embedded PostgreSQL server settings', () => {
  it('gives shared buffers a sixteenth of the memory, between 128 MB and 1 GB', () => {
    expect(embeddedServerSettings(1 * GB).shared_buffers).toBe('128MB');
    expect(embeddedServerSettings(4 * GB).shared_buffers).toBe('256MB');
    expect(embeddedServerSettings(8 * GB).shared_buffers).toBe('512MB');
    expect(embeddedServerSettings(24 * GB).shared_buffers).toBe('1024MB');
    expect(embeddedServerSettings(256 * GB).shared_buffers).toBe('1024MB');
  });

  it('spaces checkpoints by 4 GB of WAL or 15 minutes', () => {
    expect(embeddedServerSettings(8 * GB)).toMatchObject({ max_wal_size: '4GB', checkpoint_timeout: '15min' });
  });
});
