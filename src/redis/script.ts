import { createHash } from 'node:crypto';

/**
 * One field's admission in one round trip, atomically: the caller and member counters, Circle's
 * budget when the field leads, and the refresh flight it may join.
 *
 * KEYS: the counters, then the budget counters (ARGV[2] of them), then the flight (when ARGV[3] > 0).
 * ARGV: [1] how many counters before the budget, [2] how many budget counters follow, [3] the flight's hold
 * in ms (0: no flight), [4] the holder's name, [5] how many uses each counter counts (the weight),
 * then a limit and a window in ms per counter (limit -1: counted, never refused).
 * Returns {0, index, ms}: refused by the counter at `index`, which resets in `ms`; {1}: admitted to
 * lead; {2}: admitted to join the flight another holds (the budget neither checked nor counted).
 * Nothing is counted when a counter refuses.
 */
export const admitScript = `
local n = tonumber(ARGV[1])
local total = n + tonumber(ARGV[2])
local hold = tonumber(ARGV[3])
local weight = tonumber(ARGV[5])
local joining = hold > 0 and redis.call('EXISTS', KEYS[total + 1]) == 1
local last = total
if joining then last = n end
for i = 1, last do
  local limit = tonumber(ARGV[4 + 2 * i])
  if limit >= 0 and tonumber(redis.call('GET', KEYS[i]) or '0') + weight > limit then
    local ttl = redis.call('PTTL', KEYS[i])
    if ttl < 0 then ttl = tonumber(ARGV[5 + 2 * i]) end
    return {0, i, ttl}
  end
end
for i = 1, last do
  if redis.call('INCRBY', KEYS[i], weight) == weight then redis.call('PEXPIRE', KEYS[i], ARGV[5 + 2 * i]) end
end
if joining then return {2} end
if hold > 0 then redis.call('SET', KEYS[total + 1], ARGV[4], 'PX', hold) end
return {1}
`;

export const admitScriptSha = createHash('sha1').update(admitScript).digest('hex');
