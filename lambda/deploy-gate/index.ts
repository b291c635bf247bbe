/**
 * Placeholder, replaced at merge by the gate (lambda/deploy-gate from the gate's branch): it only
 * lets the infrastructure synthesize. It fails every deployment it is asked about, so that nothing
 * is ever let through unchecked.
 */
export function handler(): Promise<{ hookStatus: 'FAILED' }> {
  return Promise.resolve({ hookStatus: 'FAILED' });
}
