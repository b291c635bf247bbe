/**
 * The one thing the small signed clients read from an XML answer (EC2's, S3's errors): the text
 * of an element that holds only text.
 */
const unescapeXml = (text: string) =>
  text
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');

/** The text of the first `<tag>` in `xml`, or undefined. */
export function textOf(xml: string, tag: string): string | undefined {
  const match = new RegExp(`<${tag}>([^<]*)</${tag}>`).exec(xml);
  return match ? unescapeXml(match[1].trim()) : undefined;
}
