/**
 * The slug of a display name (organizations, projects): compatibility-decomposed, lower case, ASCII letters
 * and digits joined by single dashes, at most 50 characters; `fallback` when nothing of the name is left.
 */
export function slugify(name: string, fallback: string): string {
  const slug = name
    .normalize('NFKD')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 50)
    .replace(/-+$/g, '');
  return slug || fallback;
}
