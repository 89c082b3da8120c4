"""The Lua scripts `RedisStore` runs, each atomically in Redis."""

__all__ = ["COMPLETE", "RELEASE", "RENEW"]

# Each script acts only while the key still holds the value the owner wrote (its claim, with
# a random token): a claim whose lease lapsed and was taken over is never touched again.
COMPLETE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
  return 1
end
return 0
"""
RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""
RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""
