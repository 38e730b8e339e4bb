import { CONTACT_FIELD_PREFIX as CONTACT, RECORD as R } from './conversation-record';
import { RedisScript } from '../redis';

/*
 * The store's writes that touch several keys, each one atomic script. Arguments arrive as one
 * JSON document (ARGV[1]) with every number as a string: Lua would print 1.7e12 as "1.7e+12".
 * Scripts that take the contact ids of the live contact get them as `expected` and check them
 * against the record first; a mismatch (a concurrent change) returns -1 and the caller retries
 * with a fresh read. That way every key a script touches is declared in KEYS.
 */

/*
 * The sealed token pair is binary; it travels inside the JSON document as hex (`creds`) and is
 * written as bytes.
 */
const FROM_HEX = `
local function fromHex(hex)
  return (string.gsub(hex, '%x%x', function(pair) return string.char(tonumber(pair, 16)) end))
end
`;

/** Script results. */
export const APPLIED = 1;
export const SKIPPED = 0;
export const STALE_READ = -1;

const CHAIN_MATCHES = `
local function chainMatches(record, expected)
  local count = 0
  for _, field in ipairs(redis.call('HKEYS', record)) do
    if string.sub(field, 1, ${CONTACT.length}) == '${CONTACT}' then count = count + 1 end
  end
  if count ~= #expected then return false end
  for _, contactId in ipairs(expected) do
    if redis.call('HEXISTS', record, '${CONTACT}' .. contactId) == 0 then return false end
  end
  return true
end
`;

/**
 * KEYS: record, credentials, the previous version's tokens hash, by-credential-expiry,
 * by-customer, the contact's starting marker, then one by-contact key per `contactIds`, then
 * one per `superseded`.
 * ARGV[1]: { id, now, graceSeconds, expected, contactIds, superseded, fields, creds, cx, channel }
 * Once the contact is indexed, its starting marker has served its purpose and goes.
 */
export const SAVE_CONTACT = new RedisScript(`${CHAIN_MATCHES}${FROM_HEX}
local a = cjson.decode(ARGV[1])
if not chainMatches(KEYS[1], a.expected) then return ${STALE_READ} end
local k = 7
for _, contactId in ipairs(a.contactIds) do
  redis.call('SET', KEYS[k], a.id)
  redis.call('HSET', KEYS[1], '${CONTACT}' .. contactId, '')
  k = k + 1
end
for _, contactId in ipairs(a.superseded) do
  if redis.call('GET', KEYS[k]) == a.id then redis.call('EXPIRE', KEYS[k], a.graceSeconds) end
  redis.call('HDEL', KEYS[1], '${CONTACT}' .. contactId)
  k = k + 1
end
local fields = {}
for field, value in pairs(a.fields) do
  fields[#fields + 1] = field
  fields[#fields + 1] = value
end
redis.call('HSET', KEYS[1], unpack(fields))
redis.call('HSETNX', KEYS[1], '${R.createdAt}', a.now)
redis.call('SET', KEYS[2], fromHex(a.creds))
redis.call('DEL', KEYS[3], KEYS[6])
redis.call('ZADD', KEYS[4], a.cx, a.id)
redis.call('HSET', KEYS[5], a.id, a.channel)
return ${APPLIED}
`);

/**
 * KEYS: record, credentials, the previous version's tokens hash, by-credential-expiry.
 * ARGV[1]: { id, now, participantId, creds, cx }. The participant's own token is sealed in
 * `creds` again, so the write applies only while that participant is the conversation's.
 */
export const UPDATE_CREDENTIALS = new RedisScript(`${FROM_HEX}
local a = cjson.decode(ARGV[1])
if redis.call('HGET', KEYS[1], '${R.state}') ~= 'active' then return ${SKIPPED} end
if redis.call('HGET', KEYS[1], '${R.participantId}') ~= a.participantId then return ${SKIPPED} end
redis.call('SET', KEYS[2], fromHex(a.creds))
redis.call('DEL', KEYS[3])
redis.call('HSET', KEYS[1], '${R.connectionExpiresAt}', a.cx, '${R.updatedAt}', a.now)
redis.call('ZADD', KEYS[4], a.cx, a.id)
return ${APPLIED}
`);

/** KEYS: record, by-contact key. ARGV[1]: { id, now, contactId } */
export const ADD_CONTACT_ID = new RedisScript(`
local a = cjson.decode(ARGV[1])
if redis.call('HGET', KEYS[1], '${R.state}') ~= 'active' then return ${SKIPPED} end
redis.call('SET', KEYS[2], a.id)
redis.call('HSET', KEYS[1], '${R.contactId}', a.contactId, '${CONTACT}' .. a.contactId, '',
  '${R.updatedAt}', a.now)
return ${APPLIED}
`);

/**
 * KEYS: record, credentials, the previous version's tokens hash, by-credential-expiry,
 * by-activity, then one by-contact key per `expected`.
 * ARGV[1]: { id, now, graceSeconds, expected, initialContactId?, endItemPending? }
 */
export const MARK_ENDED = new RedisScript(`${CHAIN_MATCHES}
local a = cjson.decode(ARGV[1])
if redis.call('HGET', KEYS[1], '${R.state}') ~= 'active' then return ${SKIPPED} end
local initialContactId = redis.call('HGET', KEYS[1], '${R.initialContactId}')
if a.initialContactId and a.initialContactId ~= initialContactId then return ${SKIPPED} end
if not chainMatches(KEYS[1], a.expected) then return ${STALE_READ} end
redis.call('HSET', KEYS[1], '${R.state}', 'ended', '${R.endedAt}', a.now,
  '${R.lastEndedInitialContactId}', initialContactId, '${R.updatedAt}', a.now)
redis.call('HDEL', KEYS[1], '${R.connectionExpiresAt}')
if a.endItemPending then redis.call('HSET', KEYS[1], '${R.endItemPending}', '1')
else redis.call('HDEL', KEYS[1], '${R.endItemPending}') end
for i, contactId in ipairs(a.expected) do
  local key = KEYS[5 + i]
  if redis.call('GET', key) == a.id then redis.call('EXPIRE', key, a.graceSeconds) end
  redis.call('HDEL', KEYS[1], '${CONTACT}' .. contactId)
end
redis.call('DEL', KEYS[2], KEYS[3])
redis.call('ZREM', KEYS[4], a.id)
redis.call('ZREM', KEYS[5], a.id)
return ${APPLIED}
`);

/** KEYS: record. ARGV: InitialContactId. Its chat-ended item has arrived: nothing is pending. */
export const END_ITEM_ARRIVED = new RedisScript(`
if redis.call('HGET', KEYS[1], '${R.lastEndedInitialContactId}') ~= ARGV[1] then return ${SKIPPED} end
redis.call('HDEL', KEYS[1], '${R.endItemPending}')
return ${APPLIED}
`);

/**
 * KEYS: record, an index (sorted set of conversation ids). ARGV: id, notAfter (epoch ms).
 * Removes the id unless the conversation is active or its entry is newer than notAfter.
 */
export const DROP_STALE_INDEX_ENTRY = new RedisScript(`
if redis.call('HGET', KEYS[1], '${R.state}') == 'active' then return ${SKIPPED} end
local score = redis.call('ZSCORE', KEYS[2], ARGV[1])
if not score or tonumber(score) > tonumber(ARGV[2]) then return ${SKIPPED} end
redis.call('ZREM', KEYS[2], ARGV[1])
return ${APPLIED}
`);
