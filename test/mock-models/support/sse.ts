/** Parses an SSE body into `{ event?, data }` records (data JSON-parsed unless it is [DONE]). */
export function parseSse(text: string): Array<{ event?: string; data: any }> {
  const out: Array<{ event?: string; data: any }> = [];
  for (const block of text.split('\n\n')) {
    if (block.trim() === '') continue;
    let event: string | undefined;
    let data = '';
    for (const line of block.split('\n')) {
      if (line.startsWith('event: ')) event = line.slice(7);
      else if (line.startsWith('data: ')) data += line.slice(6);
    }
    out.push({ ...(event ? { event } : {}), data: data === '[DONE]' ? '[DONE]' : JSON.parse(data) });
  }
  return out;
}
