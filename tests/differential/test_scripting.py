"""Lua scripting compared byte for byte with redis-server (RESP2 and RESP3 callers)."""

from __future__ import annotations

import random
import time

import pytest

from tests.differential.harness import Pair, RawConnection


def ev(body: str, *keys_and_args: str, numkeys: int = 0) -> tuple[str, ...]:
    return ("EVAL", body, str(numkeys), *keys_and_args)


# Lua values -> replies, and replies -> Lua values, in both script RESP modes.
CONVERSIONS = [
    ev("return 1"), ev("return 1.9"), ev("return -1.9"), ev("return -0.5"), ev("return 3e18"),
    ev("return 1e400"), ev("return -1e400"), ev("return 0/0"), ev("return 2^63"), ev("return -2^63"),
    ev("return 'a\\0b'"), ev("return ''"), ev("return true"), ev("return false"), ev("return nil"),
    ev("return {}"), ev("return {1,2,nil,3}"), ev("return {1,'a',{2,false,true}}"),
    ev("return {err='My Error'}"), ev("return {err='-My Error'}"), ev("return {ok='fine'}"),
    ev("return {ok='a\\r\\nb'}"), ev("return {err='a\\r\\nb'}"), ev("return {err=1}"),
    ev("return {ok=1, 5}"), ev("return {1, {err='inner'}, {ok='fine'}}"),
    ev("return {double=3.5}"), ev("return {double='x'}"), ev("return {double=1/0}"),
    ev("return {map={a=1}}"), ev("return {map={}}"), ev("return {set={a=true}}"),
    ev("return {big_number='123456789012345678901234567890'}"),
    ev("return {big_number='1\\r\\n2'}"),
    ev("return {verbatim_string={format='txt', string='hello'}}"),
    ev("return redis.error_reply('boom')"), ev("return redis.error_reply('-X boom')"),
    ev("return redis.error_reply('my error')"), ev("return redis.error_reply()"),
    ev("return redis.error_reply(1)"), ev("return redis.status_reply('s')"),
    ev("return redis.status_reply(1)"), ev("return redis.error_reply('-\\r\\nX\\r\\n')"),
    ev("return KEYS[1]..ARGV[1]", "k", "a", numkeys=1),
    ev("return {KEYS, ARGV}", "k1", "k2", "a1", "a2", numkeys=2),
    ev("return #KEYS + #ARGV", "x", numkeys=0),
    ev("redis.setresp(3) return true"), ev("redis.setresp(3) return false"),
    ev("redis.setresp(3) return nil"), ev("redis.setresp(2) return false"),
    ev("return redis.sha1hex('')"), ev("return redis.sha1hex('abc')"), ev("return redis.sha1hex(12)"),
    ev("return redis.sha1hex()"),
    ev("return {redis.REPL_ALL, redis.REPL_AOF, redis.REPL_NONE, redis.REPL_REPLICA,"
       " redis.REPL_SLAVE, redis.LOG_DEBUG, redis.LOG_VERBOSE, redis.LOG_NOTICE,"
       " redis.LOG_WARNING, redis.REDIS_VERSION, redis.REDIS_VERSION_NUM}"),
    ev("return _VERSION"),
    ev("local t = {} for k,v in pairs(redis) do table.insert(t,k) end table.sort(t) return t"),
]

# Command replies as scripts see them, RESP2 and RESP3 (redis.setresp).
COMMAND_REPLIES = [
    ("HSET", "h", "f", "1", "g", "2"), ("SADD", "s", "m"), ("ZADD", "z", "1.5", "m"),
    ("RPUSH", "l", "a", "b", "c"), ("SET", "str", "v"),
    ev("return redis.call('hgetall','h')"), ev("redis.setresp(3) return redis.call('hgetall','h')"),
    ev("redis.setresp(3) local t = redis.call('hgetall','h') return t.map.f"),
    ev("return redis.call('smembers','s')"), ev("redis.setresp(3) return redis.call('smembers','s')"),
    ev("redis.setresp(3) local t = redis.call('smembers','s') return tostring(t.set.m)"),
    ev("return redis.call('zscore','z','m')"), ev("redis.setresp(3) return redis.call('zscore','z','m')"),
    ev("redis.setresp(3) return tostring(redis.call('zscore','z','m').double)"),
    ev("return redis.call('zrange','z',0,-1,'withscores')"),
    ev("redis.setresp(3) return redis.call('zrange','z',0,-1,'withscores')"),
    ev("return redis.call('get','nokey')"), ev("redis.setresp(3) return redis.call('get','nokey')"),
    ev("return tostring(redis.call('get','nokey'))"),
    ev("redis.setresp(3) return tostring(redis.call('get','nokey'))"),
    ev("return {type(redis.call('get','nokey'))}"),
    ev("return redis.call('lrange','l',0,-1)"), ev("return redis.call('ping')"),
    ev("redis.setresp(3) return redis.call('ping')"), ev("return redis.call('ping').ok"),
    ev("return redis.call('exists', 'h', 's', 'nope')"), ev("return redis.call('dbsize')"),
    ev("return redis.call('incrbyfloat','f', '1.5')"), ev("return redis.call('type','l')"),
    ev("return redis.call('lpop','nolist')"), ev("redis.setresp(3) return redis.call('lpop','nolist')"),
    ev("return redis.call('lmpop', '1', 'nolist', 'left')"),
    ev("redis.setresp(3) return redis.call('lmpop', '1', 'nolist', 'left')"),
    ev("return redis.call('blmpop', '0', '1', 'nolist', 'left')"),
    ev("return redis.call('publish', 'chan', 'msg')"),
    ev("return redis.call('SET', 'n', 1.5)"), ev("return redis.call('get', 1.5)"),
    ev("redis.call('set','k',1e20) return redis.call('get','k')"),
    ev("redis.call('set','k',0.1) return redis.call('get','k')"),
    ev("redis.call('set','k',123456789012345678) return redis.call('get','k')"),
    ev("redis.call('set','k',-0.0) return redis.call('get','k')"),
    ev("redis.call('set','k',1/0) return redis.call('get','k')"),
    ev("redis.call('set','k',1e-7) return redis.call('get','k')"),
    ev("redis.call('select', '1') redis.call('set', 'in1', 'x') return redis.call('dbsize')"),
    ("DBSIZE",), ("GET", "in1"), ("SELECT", "1"), ("GET", "in1"), ("SELECT", "0"),
    ev("return redis.call('set', KEYS[1], ARGV[1])", "key", "val", numkeys=1), ("GET", "key"),
    ('EVAL', "return redis.acl_check_cmd('get', 'k')", '0'),
    ('EVAL', "return redis.acl_check_cmd('nosuch')", '0'),
    ('EVAL', 'return redis.acl_check_cmd()', '0'),
    ('EVAL', "return redis.acl_check_cmd('config', 'get', 'x')", '0'),
    ('EVAL', "return redis.acl_check_cmd('get')", '0'),
    ('EVAL', 'return redis.acl_check_cmd(1)', '0'),
    ('EVAL', "redis.setresp(3) local v = redis.call('info', 'nosuchsection') return {type(v), v.verbatim_string.format, v.verbatim_string.string}", '0'),
    ('EVAL', "redis.setresp(3) return redis.call('info', 'nosuchsection')", '0'),
    ('EVAL', "return redis.call('info', 'nosuchsection')", '0'),
    ('HSET', 'hh', 'a', '1'),
    ('EVAL', "redis.setresp(3) return redis.call('hrandfield', 'hh', '1', 'withvalues')", '0'),
    ('ZADD', 'zz', '2.5', 'a'),
    ('EVAL', "redis.setresp(3) return redis.call('zrandmember', 'zz', '1', 'withscores')", '0'),
    ('EVAL', "redis.setresp(3) return redis.call('zpopmin', 'zz')", '0'),
    ('EVAL', "return redis.call('zadd', 'zz', 'incr', '1', 'b')", '0'),
    ('EVAL', "redis.setresp(3) return redis.call('zadd', 'zz', 'incr', '1', 'b')", '0'),
    ('EVAL', "redis.setresp(3) return redis.call('zadd', 'zz', 'nx', 'incr', '1', 'b')", '0'),
    ('EVAL', "redis.setresp(3) return redis.call('smismember', 'nos', 'a')", '0'),
    ('EVAL', "redis.setresp(3) return redis.call('object', 'freq', 'zz')", '0'),
    ('EVAL', "redis.setresp(3) return redis.call('config', 'get', 'x')", '0'),
]

ERRORS = [
    ev("return x"), ev("x = 1"), ev("_G.x = 1"), ev("string.foo = 1 return 1"),
    ev("redis.call = nil return 1"), ev("KEYS = {} return 1"), ev("KEYS[5]='x' return 1"),
    ev("rawset(_G, 'x', 1) return x"), ev("local t = {} setmetatable(_G, t) return 1"),
    ev("return os"), ev("return io"), ev("return debug"), ev("return require"), ev("return print"),
    ev("return setfenv"), ev("return getfenv"), ev("return newproxy"), ev("return loadfile"),
    ev("return dofile"), ev("return module"), ev("return loadstring('return os')()"),
    ("EVAL", "return 1", "-1"), ("EVAL", "return 1", "2", "a"), ("EVAL", "return 1", "abc"),
    ("EVAL", "return 1"), ("EVALSHA", "0000000000000000000000000000000000000000", "0"),
    ("EVALSHA", "abc", "0"), ("EVALSHA", "abc", "5"),
    ("EVALSHA", "0000000000000000000000000000000000000000", "5"), ("SCRIPT", "DEBUG", "no"),
    ("SCRIPT", "DEBUG", "maybe"), ("SCRIPT", "DEBUG"),
    ev("return redis.call('nosuch')"), ev("return redis.call('get')"), ev("return redis.call()"),
    ev("return redis.call('config','nope')"), ev("return redis.call('multi')"),
    ev("return redis.call('blpop', 'nolist', '0')"), ev("return redis.call('client','id')"),
    ev("return redis.call('eval', 'return 1', '0')"),
    ev("return redis.call('script', 'load', 'return 1')"),
    ev("return redis.call('subscribe', 'x')"), ev("return redis.call('get', {})"),
    ev("return redis.call('get', nil)"), ev("return redis.call('get', true)"),
    ("SET", "str", "x"), ev("return redis.call('incr','str')"), ev("return redis.pcall('incr','str')"),
    ev("local t = redis.pcall('incr','str'); return t['err']"), ev("return redis.pcall('nosuch')"),
    ev("return redis.pcall()"), ev("return redis.call('lpush','str','v')"),
    ev("return {pcall(redis.call, 'incr', 'str')}"),
    ev("local ok, e = pcall(redis.call, 'incr', 'str') return type(e)"),
    ev("local ok, e = pcall(redis.call, 'nosuch') return e"),
    ev("local ok, e = pcall(redis.call) return e"), ev("local ok, e = pcall(redis.call, 'get', {}) return e"),
    ev("local ok, e = pcall(redis.log, 99, 'x') return e"), ev("local ok, e = pcall(redis.sha1hex) return e"),
    ev("local ok, e = pcall(redis.setresp, 9) return e"), ev("local ok, e = pcall(error, {err='x'}) return e"),
    ev("local ok, e = pcall(error, {1}) return type(e)"),
    ev("local ok, e = pcall(cjson.encode, function() end) return e"),
    ev("local ok, e = pcall(bit.band, 'x') return e"), ev("local ok, e = pcall(math.random, 0) return e"),
    ev("local b = bit.band return b('x')"), ev("local ok, e = pcall(function() x = 1 end) return e"),
    ev("local ok, e = pcall(rawset, _G, 'x', 1) return e"),
    ev("local ok, e = pcall(redis.call, 'incr', 'str') error(e)"),
    ev("return {pcall(function() return 1, 2, nil, 4 end)}"),
    ev("return {xpcall(function() error({err='E x'}) end, function(e) return e end)}"),
    ("EVAL_RO", "return redis.call('set','k','v')", "0"),
    ("EVAL_RO", "return redis.call('publish','c','v')", "0"),
    ("EVAL_RO", "return redis.call('get','k')", "0"),
    ev("error('boom')"), ev("error({err='x'})"), ev("error({err='MYERR x'})"), ev("error(12)"),
    ev("error()"), ev("error('boom', 0)"), ev("error('boom', 2)"), ev("syntax error here"),
    ev("return 'unterminated"), ev("local x = 'a' .. nil"), ev("return 1 + {}"),
    ev("local function f() error('deep') end f()"),
    ev("local function f()\n  error('deep')\nend\nreturn f()"),
    ev("\n\nreturn redis.call('nosuch')"), ev("local t = {}\nt.x.y = 1"),
    ev("return pcall(function() error('x') end)"),
    ev("return {pcall(function() return nosuchvar end)}"),
    ev("return {pcall(function() error({err='E x'}) end)}"),
    ev("local t = setmetatable({}, {__index=function() return 1 end}) return t.x"),
    ev("return redis.set_repl(redis.REPL_ALL)"), ev("return redis.set_repl(99)"),
    ev("return redis.set_repl()"), ev("return redis.replicate_commands()"),
    ev("return redis.breakpoint()"), ev("return redis.debug('x')"),
    ev("return redis.log(redis.LOG_WARNING, 'hello', 'x')"), ev("return redis.log(99, 'hello')"),
    ev("return redis.log(1)"), ev("return redis.log('x', 'y')"), ev("return redis.setresp(4)"),
    ev("return redis.setresp()"),
    ev("#!lua flags=no-writes\nreturn redis.call('set','x','1')"),
    ev("#!lua\nreturn redis.call('set','x','1')"), ev("#!lua flags=bad\nreturn 1"),
    ev("#!python\nreturn 1"), ("EVAL_RO", "#!lua\nreturn 1", "0"),
    ("EVAL_RO", "#!lua flags=no-writes\nreturn 1", "0"), ev("#!lua name=x\nreturn 1"),
    ev("#!lua\nreturn x"), ev("#!lua flags=no-writes,allow-stale\nreturn 1"), ev("#!lua"),
]

SANDBOX = [
    ev("local t = {} for k,v in pairs(math) do table.insert(t,k) end table.sort(t) return t"),
    ev("local t = {} for k,v in pairs(string) do table.insert(t,k) end table.sort(t) return t"),
    ev("local t = {} for k,v in pairs(table) do table.insert(t,k) end table.sort(t) return t"),
    ev("local t = {} for k,v in pairs(bit) do table.insert(t,k) end table.sort(t) return t"),
    ev("local t = {} for k in pairs(coroutine) do table.insert(t,k) end table.sort(t) return t"),
    ev("return {type(cjson), type(bit), type(string), type(math), type(table), type(redis)}"),
    ev("local t = {} for k in pairs(_G) do table.insert(t, k) end table.sort(t) return t"),
    ev("return {type(loadstring), type(load), type(collectgarbage), type(gcinfo), type(unpack)}"),
    ev("return {type(redis.call), type(cjson.encode), type(cjson.null), type(_G)}"),
    ev("return {tonumber('0x10'), string.format('%5.2f', 3.14159), string.rep('ab', 3)}"),
    ev("getmetatable('').__index.foo = 1 return 1"),
    ev("getmetatable('').__index = {} return 1"),
    ev("return type(getmetatable(''))"),
    ev("return getmetatable('').__index == string"),
    ev('return type(getmetatable(_G))'),
    ev('return getmetatable(string)'),
    ev("local t = {} setmetatable(t, {__index = string}) return t.rep('a', 2)"),
    ev("return ('abc'):rep(2)"),
    ev('return type(getmetatable(_G).__index)'),
    ev('getmetatable(_G).__index = nil return 1'),
    ev('return {pcall(function() return nope end)}'),
    ev("return string.format('%d', 3)"),
    ev("return ('x'):upper() .. ('%d'):format(4)"),
    ("EVAL", 'return {loadstring(string.dump(function() return 1 end))}', '0'),
    ("EVAL", 'return type(loadstring(string.dump(function() return 1 end)))', '0'),
    ("EVAL", 'return {load(function() return nil end)}', '0'),
    ("EVAL", "local f = loadstring('return 5') return f()", '0'),
    ("EVAL", "return {loadstring('x = ')}", '0'),
    ("EVAL", 'local f, e = loadstring(string.dump(function() return 1 end)) return e', '0'),
    ("EVAL", "local f, e = loadstring(string.dump(function() return 1 end), 'name') return e", '0'),
    ("EVAL", 'local s = string.dump(function() return 1 end) local done = false local f, e = load(function() if done then return nil end done = true return s end) return {type(f), e}', '0'),
    ("EVAL", "local f, e = loadstring('\\27abc') return e", '0'),
    ("EVAL", "local f, e = loadstring('x = ', 'named') return e", '0'),
    ("EVAL", "local f, e = loadstring('x = \\n y') return e", '0'),
    ("EVAL", "local parts = {'return ', '7'} local i = 0 local f = load(function() i = i + 1 return parts[i] end) return f()", '0'),
    ("EVAL", '\x1bLuaQ', '0'), ("EVAL", '\x1bLuaQ\x00\x01', '0'),
    ev("return rawget(_G, 'KEYS') ~= nil"), ev("return rawget(string, 'rep') ~= nil"),
    ev("return next(string) ~= nil"), ev("return ('abc'):upper()"),
    ev("local co = coroutine.wrap(function() coroutine.yield(1) end) return co()"),
    ev("return coroutine.wrap(function() return redis.call('ping') end)()"),
    ev("return {coroutine.resume(coroutine.create(function() return redis.call('incr', 'cnt') end))}"),
    ev("local co = coroutine.wrap(function() error('in co') end) co()"),
    ev("local co = coroutine.wrap(function() error({err='X in co'}) end) co()"),
    ev('return {coroutine.resume(coroutine.create(function() return nope end))}'),
    ev('local co = coroutine.wrap(function() coroutine.yield(1) end) co() co() return co()'),
    ev('local f = coroutine.wrap(function(a, b) local c = coroutine.yield(a + b) return c * 2 end) return {f(1, 2), f(5)}'),
    ev('return coroutine.status(coroutine.create(function() end))'),
    ev('return coroutine.running()'),
    ev("math.randomseed(0) return {tostring(math.random()), math.random(10), math.random(5,7)}"),
    ev("math.randomseed(42) local t = {} for i=1,20 do t[i] = math.random(1000) end return t"),
    ev("math.randomseed(-7) return tostring(math.random())"),
    ev("return math.random(0)"), ev("return math.random(1,2,3)"), ev("return math.random(3,1)"),
    ev("return math.random('x')"), ev("return math.randomseed()"),
    ev("return {bit.band(0xff, 0x0f), bit.bor(1,2), bit.bxor(3,1), bit.bnot(0), bit.lshift(1,31),"
       " bit.rshift(-1,28), bit.arshift(-16,2), bit.tobit(0xffffffff), bit.tohex(255),"
       " bit.tohex(-1, -4), bit.rol(1,33), bit.ror(1,1), bit.bswap(0x12345678)}"),
    ev("return {bit.tobit(2^40+5), bit.lshift(1, 40), bit.tohex(-1), bit.band(7, '3'),"
       " bit.tobit(1.5), bit.tobit(2.5), bit.tobit(-1.5), bit.tohex(1, 12), bit.bor(1,2,4,8)}"),
    ev("return bit.band('a')"), ev("return bit.band()"), ev("return bit.tohex()"),
]

CJSON = [
    ev("return cjson.encode({1,2,3,{a=1}})"),
    ev("return cjson.encode({a='x\"y/z\\n', b=1.5, c=true, d=false})"),
    ev("return cjson.encode(1/3)"), ev("return cjson.encode(1e20)"),
    ev("return cjson.encode(12345678901234)"), ev("return cjson.encode({})"),
    ev("return cjson.encode(cjson.null)"), ev("return cjson.encode({[1]=1,[3]=3})"),
    ev("return cjson.encode({[1]=1,[30]=3})"), ev("return cjson.encode(function() end)"),
    ev("return cjson.encode(0/0)"), ev("return cjson.encode(1/0)"),
    ev("return cjson.encode('\\1\\127\\200\\t\\b\\f\\r')"), ev("return cjson.encode({['a']={1,2},[1]=5})"),
    ev("return cjson.encode({[1.5]=1})"), ev("return cjson.encode({[true]=1})"),
    ev("return cjson.encode({'x', nil, nil, nil, 'y'})"), ev("return cjson.encode('\\0')"),
    ev("return cjson.encode(-0.0)"), ev("return cjson.encode(3)"), ev("return cjson.encode(true)"),
    ev("return cjson.encode(nil)"), ev("return cjson.encode({[2]=1})"), ev("return cjson.encode()"),
    ev("return cjson.encode(1, 2)"), ev("return cjson.encode({{{{}}}})"),
    ev("return cjson.encode(KEYS)", "a", "b", numkeys=2),
    ev("local t = {} t[1] = t return cjson.encode(t)"),
    ev("local t = cjson.decode('{\"a\":[1,2,{\"b\":null}],\"c\":1.5,\"d\":\"x\\\\u00e9\"}')"
       " return {t.a[1], t.a[3].b == cjson.null, tostring(t.c), t.d}"),
    ev("return cjson.decode('[1,2')"), ev("return cjson.decode('')"), ev("return cjson.decode('1e400')"),
    ev("return cjson.decode('[1,2,3]')"), ev("return cjson.decode('{\"a\":1}').a"),
    ev("return cjson.decode('tru')"), ev("return cjson.decode('[1,]')"),
    ev("return cjson.decode('{1:2}')"), ev("return cjson.decode('{\"a\" 2}')"),
    ev("return cjson.decode('\"abc')"), ev("return cjson.decode('[1] x')"),
    ev("return cjson.decode('0x10')"), ev("return cjson.decode('\"\\\\u00\"')"),
    ev("return cjson.decode(12)"), ev("return cjson.decode()"), ev("return cjson.decode({})"),
    ev("return cjson.decode('-0.5e1')"), ev("return cjson.decode('[true,false,null,\"x\"]')"),
    ev("return cjson.encode(cjson.decode('{\"a\":{\"b\":[]}}'))"),
    ev("return cjson.decode('\"\\\\ud83d\\\\ude00\"')"), ev("return cjson.decode('  [ 1 , 2 ]  ')"),
    ev("return cjson.decode('01')"), ev("return cjson.decode('nan')"),
    ev("return cjson.decode('1.5') * 2"), ev("return cjson.decode('\"\\\\q\"')"),
    ev("return cjson.decode('{\"a\":1,}')"), ev("return cjson.decode('{\"a\":1 \"b\"}')"),
    ev("return cjson.decode('\"a\\\\/\\\\b\\\\f\\\\n\\\\r\\\\t\"')"),
    ev("return cjson.decode('[[[[[[1]]]]]]')[1][1][1][1][1][1]"),
    ev("return cjson.encode(cjson.decode('[1.5,\"x\",{\"k\":[true]}]'))"),
]

CMSGPACK = [
    ev("local t = {} for k in pairs(cmsgpack) do table.insert(t, k) end table.sort(t) return t"),
    ev("return {cmsgpack._NAME, cmsgpack._VERSION, cmsgpack._COPYRIGHT, cmsgpack._DESCRIPTION}"),
    ev("return cmsgpack.pack()"),
    ev("return cmsgpack.pack(1.5, 0.1, -0.0, 1/0, -1/0, 2^40, -2^40, -33, 200, 70000, true, nil,"
       " 'x', 127, 128, -32, -129, 65536, -32769, 2^32, -2^31, -2^31 - 1, 2^63, 1e300)"),
    ev("return cmsgpack.pack(0/0)"),
    ev("return cmsgpack.pack({}, {1, 2, 3}, {a = 1}, {1, nil, 3}, {[1] = 1, [3] = 3},"
       " {[0] = 1}, {[1.5] = 2}, {x = {y = {z = {}}}}, cjson.null, function() end)"),
    ev("return cmsgpack.pack(string.rep('a', 31), string.rep('b', 32), string.rep('c', 256),"
       " string.rep('d', 70000))"),
    ev("local t = {} for i = 1, 20 do t[i] = i end return cmsgpack.pack(t)"),
    ev("local t = {} for i = 1, 70000 do t[i] = 1 end return #cmsgpack.pack(t)"),
    ev("local t = {} for i = 1, 20 do t['k' .. i] = i end return #cmsgpack.pack(t)"),
    ev("local t = {} t[1] = t return cmsgpack.pack(t)"),
    ev("return {cmsgpack.unpack(cmsgpack.pack({1,2,{a=1}}, 'x'))}"),
    ev("return cmsgpack.unpack(cmsgpack.pack({a={1,2,{b='c'}}})).a[3].b"),
    ev("return {cmsgpack.unpack(cmsgpack.pack(1.5, -2, 300, true, false, 'x', 2^40))}"),
    ev("return {cmsgpack.unpack(cmsgpack.pack(string.rep('x', 300)))}"),
    ev("return {cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3))}"),
    ev("return {cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3), 1)}"),
    ev("return {cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3), 2)}"),
    ev("return {cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 2)}"),
    ev("return {cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 5, 2)}"),
    ev("return {cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 0)}"),
    ev("return cmsgpack.unpack('\\193')"), ev("return cmsgpack.unpack('\\205\\1')"),
    ev("return cmsgpack.unpack_one('x', -1)"), ev("return cmsgpack.unpack_one('x', 5)"),
    ev("return cmsgpack.unpack()"), ev("return {cmsgpack.unpack('\\196\\2ab')}"),
    ev("return {cmsgpack.unpack('')}"), ev("return {cmsgpack.unpack(12)}"),
    ev("return {cmsgpack.unpack('\\147\\1\\192\\3')}"),
    ev("return cmsgpack.unpack('\\129\\161a\\192').a"),
]

STRUCT = [
    ev('local t = {} for k in pairs(struct) do table.insert(t,k) end table.sort(t) return t'),
    ev("return struct.pack('>I2', 258)"),
    ev("return struct.pack('<i4 h b B', -2, -3, -4, 250)"),
    ev("return struct.pack('!4 b i4', 1, 2)"),
    ev("return struct.pack('s c3 c0', 'ab', 'xyzw', 'q')"),
    ev("return struct.pack('d f', 1.5, 0.1)"),
    ev("return struct.pack('q', 1)"),
    ev("return struct.pack('i40', 1)"),
    ev("return struct.pack('!3', 1)"),
    ev("return struct.pack('c3', 'a')"),
    ev("return struct.pack('i')"),
    ev("return {struct.unpack('>I2', '\\1\\2')}"),
    ev("return {struct.unpack('<i4 h', struct.pack('<i4 h', -2, -3))}"),
    ev("return {struct.unpack('s c2', 'ab\\0xyz')}"),
    ev("return {struct.unpack('b c0', '\\3abcd')}"),
    ev("return {struct.unpack('c0', 'abcd')}"),
    ev("return {struct.unpack('i4', 'ab')}"),
    ev("return {struct.unpack('s', 'ab')}"),
    ev("return {struct.unpack('b', 'ab', 2)}"),
    ev("return {struct.unpack('b', 'ab', 0)}"),
    ev("return {struct.unpack('d', struct.pack('d', 1.25))}"),
    ev("return {struct.size('i4 h !8 d'), struct.size('b')}"),
    ev("return struct.size('s')"),
    ev("return struct.size('c0')"),
    ev("return {struct.unpack('>L', struct.pack('>L', 2^60))}"),
    ev("return {struct.unpack('>l', struct.pack('>l', -1))}"),
    ev("return {struct.pack('>i2', 70000)}"),
    ev("return {struct.pack('>I2', -1)}"),
    ev("return {struct.pack('T', 5)}"),
    ev('return struct.pack()'),
    ev("return struct.pack('b', 'x')"),
    ev("return {struct.unpack('!8 b d', struct.pack('!8 b d', 1, 2.5))}"),
    ev("return struct.pack('<i12 >I10', -2, 5)"),
    ev("return {struct.unpack('<i12 >I10', struct.pack('<i12 >I10', -2, 5))}"),
    ev("return struct.pack('! b d x h', 1, 2.5, 3)"),
    ev("return {struct.size('! b d x h'), struct.size('!2 b i8'), struct.size('<>bq')}"),
    ev("return struct.pack('f', 1e300)"),
    ev("return {struct.unpack('>h >H', '\\255\\254\\255\\254')}"),
    ev("return {struct.unpack('I3', '\\1\\2\\3')}"),
    ev("return {struct.unpack('c2 c1', 'abc', 2)}"),
    ev("return struct.unpack('b', 'a', 5)"),
    ev("return {struct.unpack('z', 'a')}"),
]


CACHE = [
    ("SCRIPT", "LOAD", "return 1"), ("SCRIPT", "LOAD", "syntax error here"),
    ("SCRIPT", "EXISTS", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db", "x"),
    ("SCRIPT", "EXISTS", "E0E1F9FABFC9D4800C877A703B823AC0578FF8DB"),
    ("EVALSHA", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db", "0"),
    ("EVALSHA", "E0E1F9FABFC9D4800C877A703B823AC0578FF8DB", "0"),
    ("EVALSHA_RO", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db", "0"),
    ("EVAL", "return 2", "0"), ("SCRIPT", "EXISTS", "7f923f79fe76194c868d7e1d0820de36700eb649"),
    ("EVALSHA", "7f923f79fe76194c868d7e1d0820de36700eb649", "0"),
    ("SCRIPT", "FLUSH", "bad"), ("SCRIPT", "FLUSH", "async", "sync"), ("SCRIPT", "FLUSH", "ASYNC"),
    ("SCRIPT", "EXISTS", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db"),
    ("EVALSHA", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db", "0"),
    ("SCRIPT", "LOAD", "return 1"), ("SCRIPT", "FLUSH"), ("SCRIPT", "FLUSH", "sync"),
    ("SCRIPT", "KILL"), ("SCRIPT", "HELP"), ("SCRIPT", "nope"), ("SCRIPT",), ("SCRIPT", "LOAD"),
    ("SCRIPT", "EXISTS"), ("SCRIPT", "KILL", "x"),
    ("MULTI",), ev("return redis.call('incr', 'counter')"), ("EVALSHA", "abc", "0"),
    ev("return redis.call('incr', 'counter')"), ("EXEC",),
]


@pytest.mark.parametrize("script", [CONVERSIONS, COMMAND_REPLIES, ERRORS, SANDBOX, CJSON,
                                    CMSGPACK, STRUCT, CACHE],
                         ids=["conversions", "command-replies", "errors", "sandbox", "cjson",
                              "cmsgpack", "struct", "cache"])
def test_recorded_script(pair: Pair, script):
    pair.run_script(script)


def test_command_info(pair: Pair):
    # Not SCRIPT itself: Redis lists a container's subcommands in the order of
    # a randomly seeded hash table.
    for name in ("eval", "evalsha", "eval_ro", "evalsha_ro", "script|load", "script|exists",
                 "script|flush", "script|kill", "script|help", "script|debug"):
        pair.check("COMMAND", "INFO", name)


def test_command_getkeys(pair: Pair):
    pair.run_script([
        ("COMMAND", "GETKEYS", "EVAL", "return 1", "2", "a", "b", "c"),
        ("COMMAND", "GETKEYS", "EVAL", "return 1", "0", "a"),
        ("COMMAND", "GETKEYS", "EVAL", "return 1", "5", "a"),
        ("COMMAND", "GETKEYS", "EVAL", "return 1", "x", "a"),
        ("COMMAND", "GETKEYS", "EVAL", "return 1", "-1", "a"),
        ("COMMAND", "GETKEYS", "EVALSHA_RO", "abc", "1", "k"),
        ("COMMAND", "GETKEYS", "ZUNIONSTORE", "d", "2", "a", "b", "WEIGHTS", "1", "2"),
        ("COMMAND", "GETKEYS", "LMPOP", "2", "a", "b", "LEFT"),
        ("COMMAND", "GETKEYS", "BLMPOP", "0", "2", "a", "b", "LEFT"),
        ("COMMAND", "GETKEYS", "ZUNION", "2", "a", "b"),
    ])


def test_time_stands_still_for_a_script(pair: Pair):
    # Spins 100 ms of server time; the key expires meanwhile, but not for the
    # script. Both servers get the commands at once (the spin is timed).
    script = [("SET", "k", "v", "PX", "50"),
              ("EVAL", "local a = redis.call('get', 'k') local s = redis.call('time') "
                       "while true do local t = redis.call('time') "
                       "if (t[1] - s[1]) * 1000000 + (t[2] - s[2]) > 100000 then break end end "
                       "return {a, redis.call('get', 'k'), redis.call('exists', 'k')}", "0"),
              ("GET", "k")]
    pair.run_pipelined(script)


def test_random_scripts(pair: Pair):
    """Scripts built from random pieces: commands, conversions and errors."""
    rng = random.Random(20261127)
    values = ["1", "-3", "2.5", "'x'", "true", "false", "nil", "{}", "{1,'a'}", "{ok='s'}",
              "{err='E x'}", "{double=1.25}", "{map={k='v'}}", "{set={m=true}}", "KEYS", "ARGV",
              "redis.call('get', KEYS[1])", "redis.pcall('incr', KEYS[1])",
              "redis.call('lrange', KEYS[1], 0, -1)", "redis.call('hgetall', KEYS[1])",
              "redis.pcall('hset', KEYS[1], 'f', ARGV[1])", "redis.call('rpush', KEYS[1], ARGV[1])",
              "redis.call('exists', KEYS[1])", "cjson.encode({ARGV[1]})",
              "bit.bxor(#ARGV, 5)", "redis.call('set', KEYS[1], ARGV[1])"]
    for _ in range(150):
        parts = [rng.choice(values) for _ in range(rng.randint(1, 3))]
        resp = rng.choice(["", "redis.setresp(3) "])
        body = f"{resp}return {{{', '.join(parts)}}}" if rng.random() < 0.5 else \
            f"{resp}return {parts[0]}"
        key = rng.choice(["a", "b", "c"])
        pair.check("EVAL", body, "1", key, str(rng.randint(0, 9)))


BUSY = b"-BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.\r\n"


def test_exec_refused_by_a_busy_script_aborts_the_transaction(hush_process, redis_process):
    """EXEC refused with BUSY answers EXECABORT and discards the transaction."""
    client = Pair(hush_process.port, redis_process.port)
    admin = Pair(hush_process.port, redis_process.port)
    runners = [RawConnection(port) for port in (hush_process.port, redis_process.port)]
    admin.check("CONFIG", "SET", "busy-reply-threshold", "100")
    try:
        client.check("DEL", "busy:k")
        client.check("MULTI")
        client.check("SET", "busy:k", "1")
        for runner in runners:
            runner.send("EVAL", "while true do end", "0")
        deadline = time.monotonic() + 20
        while admin.both("PING") != (BUSY, BUSY):
            assert time.monotonic() < deadline, "the scripts never became busy"
            time.sleep(0.01)
        client.check("EXEC")
        client.check("EXEC")
        client.check("MULTI")
        client.check("GET", "busy:k")
        admin.check("SCRIPT", "KILL")
        assert runners[0].read_reply() == runners[1].read_reply()
        client.check("EXEC")
        client.check("EXEC")
        client.check("GET", "busy:k")
    finally:
        # Leaves no script running on the shared servers, whatever failed.
        admin.both("SCRIPT", "KILL")
        admin.both("CONFIG", "SET", "busy-reply-threshold", "5000")
        for conn in (client, admin, *runners):
            conn.close()
