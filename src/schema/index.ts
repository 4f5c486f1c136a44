import { builder } from './builder.js';
import { guardEntityRepresentations } from './entities.js';
import './errors.js';
import './member-token.js';
import './tokens.js';
import './circle-member.js';

/**
 * The served schema is the Federation v2 subgraph schema: the public API plus `_service`, `_entities`
 * and the CircleMember entity. v2.14 is the newest federation version @apollo/subgraph 2.14 knows.
 */
export const schema = guardEntityRepresentations(
  builder.toSubGraphSchema({ linkUrl: 'https://specs.apollo.dev/federation/v2.14' }),
);
