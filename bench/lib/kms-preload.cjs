// Preload for gateway processes under benchmark (`NODE_OPTIONS=--require bench/lib/kms-preload.cjs`,
// set by bench/lib/providers.ts when a benchmark asks for KMS): with BENCH_KMS_ENDPOINT=host:port, every
// KeyManagementServiceClient the product creates talks to the local Cloud KMS fake over the REST
// fallback, without credentials, exactly as test/fakes/kms.ts kmsClientFor does for tests. The product
// code is unchanged (functions/shared/crypto/kms.ts imports the package on first use, after this ran).
'use strict';
const endpoint = process.env.BENCH_KMS_ENDPOINT;
if (endpoint) {
  const at = endpoint.lastIndexOf(':');
  const host = endpoint.slice(0, at);
  const port = Number(endpoint.slice(at + 1));
  if (host !== '127.0.0.1' && host !== 'localhost') throw new Error(`BENCH_KMS_ENDPOINT must be on loopback, not ${host}`);
  const kms = require('@google-cloud/kms');
  const { PassThroughClient } = require('google-auth-library');
  const Original = kms.KeyManagementServiceClient;
  class BenchKeyManagementServiceClient extends Original {
    constructor(options) {
      super({ ...(options || {}), fallback: true, protocol: 'http', apiEndpoint: host, port, authClient: new PassThroughClient() });
    }
  }
  kms.KeyManagementServiceClient = BenchKeyManagementServiceClient;
}
