import { ConfigError, loadCodecServerConfig } from '../config';
import { openingSink } from '../storage/open';
import { createDataConverter } from './claim-check';
import { startCodecServer } from './codec-server';
import { describeEncryption, encryptionCodecOf } from './encryption-keys';
import { openBlobStore } from './open-blob-store';
import { readServiceArgs } from '../cli/service-args';

/**
 * `npm run codec-server`: the Web UI's codec endpoint on its own, without a worker, for a deployment that keeps it
 * apart from everything else (docker-compose's `codec` service, alone on a network with PostgreSQL). It holds the
 * workers' payload keys and reads claim-checked pages from the blob store next to the sink (SINK_URL); nothing else.
 */
const CODEC_SERVER_USAGE = `Usage: zendesk-export codec-server [--json]

Serves the Temporal Web UI's codec endpoint on its own, without a worker: the Web UI then shows the encrypted
payloads decoded. Configured by the environment (CODEC_SERVER_*, PAYLOAD_ENCRYPTION_*, SINK_URL; see
docs/security.md); runs until SIGINT or SIGTERM.

  --json    print where it listens as one JSON object
`;

export async function main(args: string[]): Promise<void> {
  const options = readServiceArgs(args, CODEC_SERVER_USAGE);
  if (!options) return;
  let config;
  try {
    config = loadCodecServerConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(2);
    }
    throw err;
  }
  const { sinkUrl, sinkTimeouts } = config;
  const blobStore = await openingSink(sinkUrl, () => openBlobStore(sinkUrl, sinkTimeouts));
  const server = await startCodecServer({
    // A payload under a key this process lacks shows as a marker naming the key, rather than failing the request.
    codecs: createDataConverter(blobStore, encryptionCodecOf(config.encryption).withMarkers()).payloadCodecs ?? [],
    port: config.port,
    host: config.host,
    token: config.token,
    allowUnauthenticated: config.allowUnauthenticated,
    allowedOrigins: config.allowedOrigins,
  });
  const auth = config.token
    ? 'bearer token'
    : config.allowUnauthenticated
      ? 'none (said on purpose)'
      : 'none (loopback)';
  const origins = config.allowedOrigins?.join(', ') ?? 'http://localhost:*, http://127.0.0.1:*';
  const encryption = describeEncryption(config.encryption);
  if (options.json) console.log(JSON.stringify({ url: server.url, auth, origins, payloadEncryption: encryption }));
  else {
    console.log(`Codec server for the Web UI: ${server.url} (auth: ${auth}; origins: ${origins})`);
    console.log(`Payload encryption: ${encryption}`);
  }
  if (!config.token && config.allowUnauthenticated) {
    console.warn(
      `The codec endpoint serves decoded tickets without a token on ${config.host} ` +
        '(CODEC_SERVER_UNAUTHENTICATED=allow): only the network may reach it',
    );
  }
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  await server.close();
  await blobStore.close();
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  });
}
