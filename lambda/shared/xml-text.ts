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

/**
 * The inner text of each `<tag>…</tag>` in `xml`, in order: the members of a list whose members do
 * not nest a `<tag>` of their own (`<member>` of ELBv2's TargetHealthDescriptions).
 */
export function sectionsOf(xml: string, tag: string): string[] {
  const sections: string[] = [];
  const open = `<${tag}>`;
  const close = `</${tag}>`;
  for (let from = xml.indexOf(open); from >= 0; from = xml.indexOf(open, from)) {
    const end = xml.indexOf(close, from + open.length);
    if (end < 0) break;
    sections.push(xml.slice(from + open.length, end));
    from = end + close.length;
  }
  return sections;
}
