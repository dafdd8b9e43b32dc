/**
 * The real KMS client pointed at a local REST fake (KMS_EMULATOR_HOST=host:port, refused in production
 * by config.ts): the REST fallback over plain http, with an auth client that adds no credentials.
 * Benchmarks use it so the per-call unwrap costs what a KMS round trip costs, not a local AES call.
 */
export async function kmsEmulatorClient(hostPort: string): Promise<unknown> {
  const at = hostPort.lastIndexOf(':');
  const [{ KeyManagementServiceClient }, { PassThroughClient }] = await Promise.all([import('@google-cloud/kms'), import('google-auth-library')]);
  return new KeyManagementServiceClient({
    fallback: true,
    protocol: 'http',
    apiEndpoint: hostPort.slice(0, at),
    port: Number(hostPort.slice(at + 1)),
    authClient: new PassThroughClient(),
  } as unknown as ConstructorParameters<typeof KeyManagementServiceClient>[0]);
}
