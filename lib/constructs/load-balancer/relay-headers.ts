/**
 * The headers by which a load balancer's WAF tells CloudFront's relays (the static site's `/api/*`
 * and `/regions/<region>/*` paths) from direct requests, and rate-limits them per viewer.
 */

/** Carries the load balancer's relay token (`PublicLoadBalancer.relayToken`) on relayed requests. */
export const RELAY_TOKEN_HEADER = 'x-blueprint-relay';

/**
 * The viewer's address as CloudFront saw it, on relayed requests. The site's viewer-request function
 * sets it, replacing any value the viewer sent, so the WAF can count requests per viewer rather than
 * per CloudFront edge address.
 */
export const VIEWER_IP_HEADER = 'x-viewer-ip';
