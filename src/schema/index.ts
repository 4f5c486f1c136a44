import { builder } from './builder.js';
import { guardEntityRepresentations } from './entities.js';
import './errors.js';
import './member-token.js';
import './tokens.js';
import './circle-member.js';
import './sessions.js';

/**
 * The served schema is the Federation v2 subgraph schema: the public API plus `_service`, `_entities`
 * and the CircleMember entity. It links federation v2.0, the lowest version that provides what it
 * uses (`@key`, `resolvable` included), so that supergraphs composed with older tooling (composition
 * 2.0 and later; 2.3 is tested) can take it, not only those on the newest.
 */
export const schema = guardEntityRepresentations(
  builder.toSubGraphSchema({ linkUrl: 'https://specs.apollo.dev/federation/v2.0' }),
);
