import { PRINCIPAL_NAME_INDEX_NAME } from 'nestjs-redis-session';

/** What a signed-in session holds: the user name, also as the principal name so the library indexes it. */
export interface ChatSessionAttributes {
  username: string;
  [PRINCIPAL_NAME_INDEX_NAME]: string;
  [name: string]: unknown;
}
