/**
 * Roles a member of an organization can hold (users.role, invitations.role), highest first: the one list
 * the check constraints, the OpenAPI enums and the token code (functions/shared/security/tokens.ts) read.
 * No imports, so the kernel loads it at start without the table definitions.
 */
export const userRoles = ['owner', 'admin', 'member', 'viewer'] as const;
export type UserRole = (typeof userRoles)[number];
