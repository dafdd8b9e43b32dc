/**
 * `npm run db:bootstrap [-- "Organization name"]`: on a database with no organization, creates the first
 * one and prints a one-time owner invitation code (that owner becomes a platform admin). Later runs print
 * that nothing was done. Uses DATABASE_URL / INSTANCE_CONNECTION_NAME like the functions.
 */
import { loadConfig } from '../../functions/shared/config.js';
import { openDatabase } from '../../functions/shared/db/index.js';
import { bootstrapFirstOrganization } from '../../functions/auth/service/bootstrap.js';

const name = process.argv[2] ?? 'Lattice Lock';
const database = await openDatabase(loadConfig());
try {
  const first = await bootstrapFirstOrganization(database, name);
  if (first) {
    console.log(`organization "${first.organizationName}" (${first.organizationId}) created`);
    console.log(`owner invitation code (shown once, valid ${first.validDays} days): ${first.invitationCode}`);
  } else {
    console.log('an organization already exists: nothing to do (platform admins create more with POST /organizations)');
  }
} finally {
  await database.close();
}
