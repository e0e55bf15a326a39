"""The Lua side of scripting: Redis 7.0's sandbox, ``redis.*``, cjson and the error handler.

:data:`SANDBOX` is run once per Lua state (chunk name ``=hush``) with a table
of Python callbacks. It keeps the few functions it needs in locals, removes
what Redis's sandbox lacks (os, io, debug, require, print, setfenv, ...), and
replaces the global table with an empty, read-only proxy so that reads of
unknown globals and every assignment fail as Redis 7.0's read-only globals
do. Library tables (string, math, redis, cjson, ...) get the same read-only
proxies; ``pairs``, ``next``, ``rawget``, ``rawset`` and ``setmetatable`` see
through them. It returns the helpers Python drives a script run with.

Written in Lua (not Python) where Redis's behaviour depends on Lua's own
number formatting, table traversal order or error positions: cjson, the
argument conversion of ``redis.call``, and error levels.
"""

SANDBOX = r"""
local py = ...
local G = _G
-- A state for FUNCTION libraries rather than for EVAL scripts (Redis keeps
-- one of each): no KEYS/ARGV, and the library API while a library loads.
local functions_mode = py.functions
local getinfo, sethook, gethook = debug.getinfo, debug.sethook, debug.gethook
local setfenv_, newproxy_ = setfenv, newproxy
local setmetatable_, rawget_, rawset_, next_, pairs_ = setmetatable, rawget, rawset, next, pairs
local getmetatable_ = getmetatable
local type_, error_, tostring_, select_, xpcall_, loadstring_ = type, error, tostring, select, xpcall, loadstring
local tonumber_, floor, huge = tonumber, math.floor, math.huge
local string_dump = string.dump
local format, byte, sub, find, gsub, concat = string.format, string.byte, string.sub, string.find, string.gsub, table.concat

for _, name in ipairs({"os", "io", "debug", "package", "require", "module", "loadfile",
                       "dofile", "print", "setfenv", "getfenv", "newproxy", "python"}) do
  G[name] = nil
end

local READONLY = "Attempt to modify a readonly table"
local INTERNAL = "=hush"
local proxies = {}
local views = {}  -- proxy -> what getmetatable shows of it

local function readonly_proxy(real, strict)
  local proxy = {}
  local mt = {__metatable = false}
  mt.__newindex = function() error_(READONLY, 2) end
  if strict then
    mt.__index = function(_, key)
      local value = rawget_(real, key)
      if value == nil then
        error_("Script attempted to access nonexistent global variable '" .. tostring_(key) .. "'", 2)
      end
      return value
    end
  else
    mt.__index = real
  end
  setmetatable_(proxy, mt)
  proxies[proxy] = real
  return proxy, mt
end

local function checked(f)
  -- Python callbacks answer (true, value) or (false, message); the message is
  -- raised at the caller's level, as a C library's luaL_error would be, and
  -- names the function as the caller called it (luaL_argerror's '?' when
  -- called from pcall).
  return function(...)
    local ok, value = f(...)
    if not ok then
      local info = getinfo(1, "n")
      error_((gsub(value, "{fn}", info and info.name or "?")), 2)
    end
    return value
  end
end

local unpack_ = unpack
local function checked_multi(f)
  -- As checked, for functions answering (true, values, count).
  return function(...)
    local ok, values, count = f(...)
    if not ok then
      local info = getinfo(1, "n")
      error_((gsub(values, "{fn}", info and info.name or "?")), 2)
    end
    return unpack_(values, 1, count)
  end
end

-- cmsgpack (lua-cmsgpack 0.4.0), in Python (hush.scripting.libs.cmsgpack).
G.cmsgpack = {
  _NAME = "cmsgpack", _VERSION = "lua-cmsgpack 0.4.0",
  _COPYRIGHT = "Copyright (C) 2012, Salvatore Sanfilippo",
  _DESCRIPTION = "MessagePack C implementation for Lua",
  pack = checked(py.msgpack_pack),
  unpack = checked_multi(py.msgpack_unpack),
  unpack_one = checked_multi(py.msgpack_unpack_one),
  unpack_limit = checked_multi(py.msgpack_unpack_limit),
}

-- struct (lua-struct 0.2), in Python (hush.scripting.libs.struct).
G.struct = {
  pack = checked(py.struct_pack),
  unpack = checked_multi(py.struct_unpack),
  size = checked(py.struct_size),
}

-- math.random and math.randomseed: Redis's own rand48 generator.
math.random = checked(py.random)
math.randomseed = checked(py.randomseed)

-- bit (Lua BitOp's API).
local bit = {}
for _, name in ipairs({"tobit", "tohex", "bnot", "band", "bor", "bxor", "lshift", "rshift",
                       "arshift", "rol", "ror", "bswap"}) do
  bit[name] = checked(py["bit_" .. name])
end
G.bit = bit

-- cjson (lua-cjson 2.1.0 as bundled with Redis, default settings).
local cjson = {_NAME = "cjson", _VERSION = "2.1.0"}
local null = newproxy_(false)
cjson.null = null
local escapes = {['"'] = '\\"', ['\\'] = '\\\\', ['/'] = '\\/', ['\b'] = '\\b',
                 ['\f'] = '\\f', ['\n'] = '\\n', ['\r'] = '\\r', ['\t'] = '\\t'}
for code = 0, 31 do
  local ch = string.char(code)
  if not escapes[ch] then escapes[ch] = format("\\u%04x", code) end
end
escapes["\127"] = "\\u007f"

local function encode_string(s)
  return '"' .. gsub(s, '[%c"\\/]', escapes) .. '"'
end

local function encode_number(n)
  if n ~= n or n == huge or n == -huge then
    error_("Cannot serialise number: must not be NaN or Inf", 0)
  end
  return format("%.14g", n)
end

local function array_length(t)
  local max, items = 0, 0
  for k in next_, t do
    if type_(k) == "number" and k ~= 0 and floor(k) == k and k >= 1 then
      if k > max then max = k end
      items = items + 1
    else
      return -1
    end
  end
  if max > items * 2 and max > 10 then
    error_("Cannot serialise table: excessively sparse array", 0)
  end
  return max
end

local encode_value
local function encode_table(t, depth, out)
  if depth > 1000 then
    error_(format("Cannot serialise, excessive nesting (%d)", depth), 0)
  end
  local length = array_length(t)
  if length > 0 then
    out[#out + 1] = "["
    for i = 1, length do
      if i > 1 then out[#out + 1] = "," end
      encode_value(rawget_(t, i), depth, out)
    end
    out[#out + 1] = "]"
    return
  end
  out[#out + 1] = "{"
  local first = true
  for k, v in next_, t do
    if not first then out[#out + 1] = "," end
    first = false
    local kind = type_(k)
    if kind == "string" then
      out[#out + 1] = encode_string(k)
    elseif kind == "number" then
      out[#out + 1] = '"' .. encode_number(k) .. '"'
    else
      error_("Cannot serialise " .. kind .. ": table key must be a number or string", 0)
    end
    out[#out + 1] = ":"
    encode_value(v, depth, out)
  end
  out[#out + 1] = "}"
end

encode_value = function(v, depth, out)
  local kind = type_(v)
  if kind == "string" then
    out[#out + 1] = encode_string(v)
  elseif kind == "number" then
    out[#out + 1] = encode_number(v)
  elseif kind == "boolean" then
    out[#out + 1] = v and "true" or "false"
  elseif kind == "nil" or v == null then
    out[#out + 1] = "null"
  elseif kind == "table" then
    encode_table(proxies[v] or v, depth + 1, out)
  else
    error_("Cannot serialise " .. kind .. ": type not supported", 0)
  end
end

cjson.encode = function(...)
  if select_("#", ...) ~= 1 then
    error_("bad argument #1 to 'encode' (expected 1 argument)", 2)
  end
  local out = {}
  local ok, err = pcall(encode_value, (...), 0, out)
  if not ok then error_(err, 2) end
  return concat(out)
end

local TOKEN_NAMES = {["{"] = "T_OBJ_BEGIN", ["}"] = "T_OBJ_END", ["["] = "T_ARR_BEGIN",
                     ["]"] = "T_ARR_END", [":"] = "T_COLON", [","] = "T_COMMA"}
local UNESCAPE = {['"'] = '"', ['\\'] = '\\', ['/'] = '/', b = '\b', f = '\f',
                  n = '\n', r = '\r', t = '\t'}

local function utf8(code)
  if code < 0x80 then return string.char(code) end
  if code < 0x800 then
    return string.char(0xC0 + floor(code / 0x40), 0x80 + code % 0x40)
  end
  if code < 0x10000 then
    return string.char(0xE0 + floor(code / 0x1000), 0x80 + floor(code / 0x40) % 0x40,
                       0x80 + code % 0x40)
  end
  return string.char(0xF0 + floor(code / 0x40000), 0x80 + floor(code / 0x1000) % 0x40,
                     0x80 + floor(code / 0x40) % 0x40, 0x80 + code % 0x40)
end

local number_token

-- One token at byte ``pos``: kind, value, start index (0-based, as cjson
-- reports it plus one), next position. Errors are kind "error" with the text.
local function next_token(s, pos)
  pos = find(s, "[^ \t\n\r]", pos) or #s + 1
  local start = pos - 1
  local ch = sub(s, pos, pos)
  if ch == "" or ch == "\0" then return "T_END", nil, start, pos end
  local name = TOKEN_NAMES[ch]
  if name then return name, ch, start, pos + 1 end
  if ch == '"' then
    local parts, i = {}, pos + 1
    while true do
      local c = sub(s, i, i)
      if c == "" or c == "\0" then return "error", "unexpected end of string", i - 1, i end
      if c == '"' then return "T_STRING", concat(parts), start, i + 1 end
      if c == "\\" then
        local e = sub(s, i + 1, i + 1)
        if e == "u" then
          local hex = sub(s, i + 2, i + 5)
          local code = #hex == 4 and not find(hex, "[^%x]") and tonumber_(hex, 16)
          local used = 6
          if code and code >= 0xD800 and code <= 0xDBFF then
            local low = sub(s, i + 6, i + 7) == "\\u" and sub(s, i + 8, i + 11)
            local lcode = low and #low == 4 and not find(low, "[^%x]") and tonumber_(low, 16)
            if lcode and lcode >= 0xDC00 and lcode <= 0xDFFF then
              code = 0x10000 + (code - 0xD800) * 0x400 + (lcode - 0xDC00)
              used = 12
            else
              code = nil
            end
          elseif code and code >= 0xDC00 and code <= 0xDFFF then
            code = nil
          end
          if not code then return "error", "invalid unicode escape code", i - 1, i end
          parts[#parts + 1] = utf8(code)
          i = i + used
        else
          local plain = UNESCAPE[e]
          if not plain then return "error", "invalid escape code", i - 1, i end
          parts[#parts + 1] = plain
          i = i + 2
        end
      else
        local j = find(s, '["\\%z]', i) or #s + 1
        parts[#parts + 1] = sub(s, i, j - 1)
        i = j
      end
    end
  end
  if ch == "-" or find(ch, "%d") then
    return number_token(s, pos, start)
  end
  if sub(s, pos, pos + 3) == "true" then return "T_BOOLEAN", true, start, pos + 4 end
  if sub(s, pos, pos + 4) == "false" then return "T_BOOLEAN", false, start, pos + 5 end
  if sub(s, pos, pos + 3) == "null" then return "T_NULL", null, start, pos + 4 end
  local word = string.lower(sub(s, pos, pos + 2))
  if ch == "+" or word == "inf" or word == "nan" then return number_token(s, pos, start) end
  return "error", "invalid token", start, pos
end

-- strtod's longest numeric prefix: decimal, hexadecimal, inf or nan.
number_token = function(s, pos, start)
  local text = string.match(s, "^[-+]?0[xX]%x+", pos)
    or string.match(s, "^[-+]?[iI][nN][fF]", pos)
    or string.match(s, "^[-+]?[nN][aA][nN]", pos)
  if not text then
    local mantissa = string.match(s, "^[-+]?%d*%.?%d*", pos)
    if mantissa and find(mantissa, "%d") then
      text = mantissa .. (string.match(s, "^[eE][-+]?%d+", pos + #mantissa) or "")
    end
  end
  local value = text and tonumber_(text)
  if not value then
    local word = text and string.lower(text) or ""
    if find(word, "inf") then value = (sub(word, 1, 1) == "-") and -huge or huge
    elseif find(word, "nan") then value = 0 / 0
    else return "error", "invalid number", start, pos end
  end
  return "T_NUMBER", value, start, pos + #text
end

local decode_value
local function parse_error(expected, kind, value, index)
  local found = kind == "error" and value or kind
  error_(format("Expected %s but found %s at character %d", expected, found, index + 1), 0)
end

local function decode_object(s, pos, depth, index)
  if depth > 1000 then
    error_(format("Found too many nested data structures (%d) at character %d", depth, index + 1), 0)
  end
  local t = {}
  local kind, value, start
  kind, value, start, pos = next_token(s, pos)
  if kind == "T_OBJ_END" then return t, pos end
  while true do
    if kind ~= "T_STRING" then parse_error("object key string", kind, value, start) end
    local key = value
    kind, value, start, pos = next_token(s, pos)
    if kind ~= "T_COLON" then parse_error("colon", kind, value, start) end
    kind, value, start, pos = next_token(s, pos)
    t[key], pos = decode_value(s, pos, depth, kind, value, start)
    kind, value, start, pos = next_token(s, pos)
    if kind == "T_OBJ_END" then return t, pos end
    if kind ~= "T_COMMA" then parse_error("comma or object end", kind, value, start) end
    kind, value, start, pos = next_token(s, pos)
  end
end

local function decode_array(s, pos, depth, index)
  if depth > 1000 then
    error_(format("Found too many nested data structures (%d) at character %d", depth, index + 1), 0)
  end
  local t, i = {}, 1
  local kind, value, start
  kind, value, start, pos = next_token(s, pos)
  if kind == "T_ARR_END" then return t, pos end
  while true do
    t[i], pos = decode_value(s, pos, depth, kind, value, start)
    i = i + 1
    kind, value, start, pos = next_token(s, pos)
    if kind == "T_ARR_END" then return t, pos end
    if kind ~= "T_COMMA" then parse_error("comma or array end", kind, value, start) end
    kind, value, start, pos = next_token(s, pos)
  end
end

decode_value = function(s, pos, depth, kind, value, start)
  if kind == "T_STRING" or kind == "T_NUMBER" or kind == "T_BOOLEAN" or kind == "T_NULL" then
    return value, pos
  elseif kind == "T_OBJ_BEGIN" then
    return decode_object(s, pos, depth + 1, start)
  elseif kind == "T_ARR_BEGIN" then
    return decode_array(s, pos, depth + 1, start)
  end
  parse_error("value", kind, value, start)
end

local function decode(s)
  local kind, value, start, pos = next_token(s, 1)
  local result
  result, pos = decode_value(s, pos, 0, kind, value, start)
  kind, value, start, pos = next_token(s, pos)
  if kind ~= "T_END" then parse_error("the end", kind, value, start) end
  return result
end

cjson.decode = function(...)
  if select_("#", ...) ~= 1 then
    error_("bad argument #1 to 'decode' (expected 1 argument)", 2)
  end
  local s = ...
  local kind = type_(s)
  if kind == "number" then
    s = tostring_(s)
  elseif kind ~= "string" then
    error_("bad argument #1 to 'decode' (string expected, got " .. kind .. ")", 2)
  end
  local ok, result = pcall(decode, s)
  if not ok then error_(result, 2) end
  return result
end
G.cjson = cjson

-- redis.*
local redis = {}
local py_call = py.call
local function command_args(...)
  -- Numbers become text as Redis 7.0 formats them (%.17g); any other
  -- type is refused before the command is looked up.
  local n = select_("#", ...)
  local args = {...}
  for i = 1, n do
    local value = args[i]
    local kind = type_(value)
    if kind == "number" then
      args[i] = format("%.17g", value)
    elseif kind ~= "string" then
      return nil, n
    end
  end
  return args, n
end

redis.call = function(...)
  local args, n = command_args(...)
  local failed, reply = py_call(args, n)
  if failed then error_(reply) end
  return reply
end
redis.pcall = function(...)
  local args, n = command_args(...)
  local _, reply = py_call(args, n)
  return reply
end

local function error_table(text)
  -- luaPushErrorBuff: "-CODE message" keeps its code, anything else gets ERR.
  local code, message = "ERR", text
  if sub(text, 1, 1) == "-" then
    local space = find(text, " ", 1, true)
    if space then
      code, message = sub(text, 2, space - 1), sub(text, space + 1)
    else
      message = sub(text, 2)
    end
  end
  message = gsub(gsub(message, "^[\r\n]+", ""), "[\r\n]+$", "")
  return {err = code .. " " .. message}
end

redis.error_reply = function(...)
  local text = ...
  if select_("#", ...) ~= 1 or type_(text) ~= "string" then
    return error_table("wrong number or type of arguments")
  end
  -- Redis copies the text as a C string: it ends at a NUL byte.
  local nul = find(text, "\0", 1, true)
  if nul then text = sub(text, 1, nul - 1) end
  if sub(text, 1, 1) ~= "-" then text = "-" .. text end
  return error_table(text)
end
redis.status_reply = function(...)
  local text = ...
  if select_("#", ...) ~= 1 or type_(text) ~= "string" then
    return error_table("wrong number or type of arguments")
  end
  return {ok = text}
end
redis.sha1hex = function(...)
  if select_("#", ...) ~= 1 then error_(error_table("wrong number of arguments")) end
  local s = ...
  return py.sha1hex(tostring_(s))
end
redis.log = function(...)
  local n = select_("#", ...)
  local level = ...
  if n < 2 then error_(error_table("redis.log() requires two arguments or more.")) end
  if type_(level) ~= "number" and not tonumber_(level) then
    error_(error_table("First argument must be a number (log level)."))
  end
  level = tonumber_(level)
  if level < 0 or level > 3 then error_(error_table("Invalid debug level.")) end
  local parts = {}
  for i = 2, n do
    local value = select_(i, ...)
    local kind = type_(value)
    if kind == "string" or kind == "number" then parts[#parts + 1] = tostring_(value) end
  end
  py.log(level, concat(parts, " "))
end
redis.setresp = function(...)
  if select_("#", ...) ~= 1 then error_(error_table("redis.setresp() requires one argument.")) end
  local version = tonumber_((...))
  if version ~= 2 and version ~= 3 then error_(error_table("RESP version must be 2 or 3.")) end
  py.setresp(version)
end
redis.set_repl = function(...)
  if select_("#", ...) ~= 1 then error_(error_table("redis.set_repl() requires two arguments.")) end
  local flags = tonumber_((...)) or 0
  if flags ~= 0 and flags ~= 1 and flags ~= 2 and flags ~= 3 then
    error_(error_table("Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE."))
  end
  py.set_repl(flags)
end
if not functions_mode then
  -- EVAL's alone: functions have neither (nor the debugger's pair).
  redis.replicate_commands = function() return true end
  -- Outside the debugger (which Hush does not have) both do nothing.
  redis.breakpoint = function() return false end
  redis.debug = function() end
end
local py_acl_check = py.acl_check
redis.acl_check_cmd = function(...)
  local args, n = command_args(...)
  if n < 1 then
    error_(error_table("Please specify at least one argument for this redis lib call"))
  end
  if args == nil then
    error_(error_table("Lua redis lib command arguments must be strings or integers"))
  end
  -- Whether the caller's ACL user may run it: true, false, or nil for no such command.
  local allowed = py_acl_check(args, n)
  if allowed == nil then error_(error_table("Invalid command passed to redis.acl_check_cmd()")) end
  return allowed
end
redis.REPL_NONE, redis.REPL_AOF, redis.REPL_SLAVE, redis.REPL_REPLICA, redis.REPL_ALL = 0, 1, 2, 2, 3
redis.LOG_DEBUG, redis.LOG_VERBOSE, redis.LOG_NOTICE, redis.LOG_WARNING = 0, 1, 2, 3
redis.REDIS_VERSION = py.version
redis.REDIS_VERSION_NUM = py.version_num
G.redis = redis

-- The error handler: errors become {err=..., source=..., line=...} naming
-- the innermost frame of the user's script (skipping C functions and this
-- sandbox's own wrappers).
local function error_handler(err)
  local level = 2
  local info = getinfo(level, "nSl")
  while info and (info.what == "C" or info.what == "tail" or info.source == INTERNAL) do
    level = level + 1
    info = getinfo(level, "nSl")
  end
  if type_(err) ~= "table" then
    err = {err = "ERR " .. tostring_(err)}
  end
  if info then
    err.source = info.source
    err.line = info.currentline
  end
  return err
end
if not functions_mode then
  G.__redis__err__handler = error_handler
end

-- The interrupt hook: Python decides (busy threshold, SCRIPT KILL). Once
-- killed, a line hook raises again at every line so pcall cannot swallow it.
local KILLED = "Script killed by user with SCRIPT KILL..."
local function killed_hook()
  -- Not in this sandbox's own code: helpers.run must get to clear the hook.
  local info = getinfo(2, "S")
  if info and info.source ~= INTERNAL then error_(error_table(KILLED)) end
end
local py_interrupt = py.interrupt
local function count_hook()
  if py_interrupt() then
    sethook(killed_hook, "l")
    error_(error_table(KILLED))
  end
end

-- A Lua hook belongs to one coroutine: new coroutines get the running
-- script's, so a loop inside one can be interrupted too (Redis's C hook
-- reaches every coroutine).
local co_create, co_resume = coroutine.create, coroutine.resume
coroutine.create = function(f)
  local co = co_create(f)
  local hook, mask, count = gethook()
  if hook then sethook(co, hook, mask, count) end
  return co
end
local create = coroutine.create
local function count_and_pack(...) return select_("#", ...), {...} end
coroutine.wrap = function(f)
  local co = create(f)
  return function(...)
    -- Not a tail call: a string error gets the position of the caller (as
    -- the C version's luaL_where(L, 1)), which must still be on the stack.
    local n, results = count_and_pack(co_resume(co, ...))
    if not results[1] then
      local err = results[2]
      if type_(err) == "string" then error_(err, 2) end
      error_(err, 0)
    end
    return unpack_(results, 2, n)
  end
end

-- The globals and the libraries become read-only.
for _, name in ipairs({"string", "math", "table", "coroutine", "bit", "cjson", "cmsgpack",
                       "struct", "redis"}) do
  G[name] = readonly_proxy(G[name], false)
end
-- Redis's pcall hands a caught error table over as its err string.
local pcall_ = pcall
local function pcall_result(ok, ...)
  if ok then return true, ... end
  local err = ...
  if type_(err) == "table" then
    local message = rawget_(err, "err")
    local kind = type_(message)
    if kind == "string" or kind == "number" then err = message end
  end
  return false, err
end
G.pcall = function(...) return pcall_result(pcall_(...)) end
G.pairs = function(t)
  if proxies[t] then return G.next, t, nil end
  return pairs_(t)
end
G.next = function(t, k) return next_(proxies[t] or t, k) end
G.rawget = function(t, k) return rawget_(proxies[t] or t, k) end
G.rawset = function(t, k, v)
  if proxies[t] then error_(READONLY, 0) end
  return rawset_(t, k, v)
end
G.setmetatable = function(t, mt)
  if proxies[t] then error_(READONLY, 0) end
  return setmetatable_(t, mt)
end
G.getmetatable = function(t)
  if proxies[t] then return views[t] end
  return getmetatable_(t)
end
local globals, globals_mt = readonly_proxy(G, true)
G._G = globals
-- getmetatable(_G) shows its metatable, read-only, as Redis does; library
-- tables show none.
views[globals] = readonly_proxy(globals_mt, false)
-- Strings index the read-only string table, and their metatable is shown
-- read-only: a script cannot change how later scripts' strings behave.
local string_mt = getmetatable_("")
rawset_(string_mt, "__index", G.string)
rawset_(string_mt, "__metatable", readonly_proxy(string_mt, false))
-- Scripts (and what they load) see the proxy as their environment; the
-- state's own global table stays the real one, which lupa itself reads.
-- Redis's Lua takes every chunk as source text: precompiled bytecode (which
-- can crash the VM) is refused with the parser's own error. A leading space
-- makes stock Lua do the same.
local load_ = load
local function as_text(s)
  if sub(s, 1, 1) == "\27" then return " " .. s end
  return s
end
G.loadstring = function(s, name)
  local f, err
  if type_(s) == "string" then
    f, err = loadstring_(as_text(s), name or s)
  else
    f, err = loadstring_(s, name)
  end
  if f then setfenv_(f, globals) end
  return f, err
end
G.load = function(reader, name)
  local first = true
  local function text_reader()
    local piece = reader()
    if first then
      first = false
      if type_(piece) == "string" then piece = as_text(piece) end
    end
    return piece
  end
  local f, err = load_(type_(reader) == "function" and text_reader or reader, name)
  if f then setfenv_(f, globals) end
  return f, err
end

local helpers = {}
helpers.dump = string_dump
function helpers.compile(body, chunkname)
  local f, err = loadstring_(as_text(body), chunkname or "@user_script")
  if f then setfenv_(f, globals) end
  return f, err
end
-- Only for this sandbox's own rewrite of a compiled script (see untail).
function helpers.load_compiled(chunk, chunkname)
  local f = loadstring_(chunk, chunkname or "@user_script")
  setfenv_(f, globals)
  return f
end
function helpers.run(f, keys, argv, count)
  rawset_(G, "KEYS", keys)
  rawset_(G, "ARGV", argv)
  sethook(count_hook, "", count)
  local ok, result = xpcall_(f, error_handler)
  sethook()
  return ok, result
end

if functions_mode then
  -- What a library's top-level code sees while FUNCTION LOAD runs it (Redis's
  -- library API): only redis.register_function, redis.log and the constants;
  -- everything else is a nonexistent global, read or written. Its functions
  -- keep the library's environment, which reads the full globals once the
  -- load is over.
  local registered  -- while a library loads: its functions, in order
  local FLAGS = {["no-writes"] = true, ["allow-oom"] = true, ["allow-stale"] = true,
                 ["no-cluster"] = true, ["allow-cross-slot-keys"] = true}
  local lower = string.lower

  local function load_error(text) error_({err = "ERR " .. text}) end
  local function as_string(value)
    -- lua_isstring: strings, and numbers as Lua prints them.
    local kind = type_(value)
    if kind == "string" then return value end
    if kind == "number" then return tostring_(value) end
    return nil
  end
  local function read_flags(list)
    local flags, j = {}, 1
    while true do
      local value = list[j]
      if value == nil then return flags end
      local text = as_string(value)
      if text == nil or not FLAGS[lower(text)] then return nil end
      flags[#flags + 1] = lower(text)
      j = j + 1
    end
  end
  local function named_args(args)
    if type_(args) ~= "table" then
      load_error("calling redis.register_function with a single argument is only applicable " ..
                 "to Lua table (representing named arguments).")
    end
    local name, description, callback, flags
    for key, value in next_, args do
      local word = as_string(key)
      if word == nil then
        load_error("named argument key given to redis.register_function is not a string")
      end
      word = lower(word)
      if word == "function_name" then
        name = as_string(value)
        if name == nil then
          load_error("function_name argument given to redis.register_function must be a string")
        end
      elseif word == "description" then
        description = as_string(value)
        if description == nil then
          load_error("description argument given to redis.register_function must be a string")
        end
      elseif word == "callback" then
        if type_(value) ~= "function" then
          load_error("callback argument given to redis.register_function must be a function")
        end
        callback = value
      elseif word == "flags" then
        if type_(value) ~= "table" then
          load_error("flags argument to redis.register_function must be a table " ..
                     "representing function flags")
        end
        flags = read_flags(value)
        if flags == nil then load_error("unknown flag given") end
      else
        load_error("unknown argument given to redis.register_function")
      end
    end
    if name == nil then load_error("redis.register_function must get a function name argument") end
    if callback == nil then load_error("redis.register_function must get a callback argument") end
    return name, callback, description, flags or {}
  end
  local function register_function(...)
    if registered == nil then
      load_error("redis.register_function can only be called on FUNCTION LOAD command")
    end
    local count = select_("#", ...)
    if count < 1 or count > 2 then
      load_error("wrong number of arguments to redis.register_function")
    end
    local name, callback, description, flags
    if count == 1 then
      name, callback, description, flags = named_args((...))
    else
      local first, second = ...
      name = as_string(first)
      if name == nil then load_error("first argument to redis.register_function must be a string") end
      if type_(second) ~= "function" then
        load_error("second argument to redis.register_function must be a function")
      end
      callback, flags = second, {}
    end
    if name == "" or find(name, "[^A-Za-z0-9_]") then
      load_error("Library names can only contain letters, numbers, or underscores(_) and must " ..
                 "be at least one character long")
    end
    for _, entry in ipairs(registered) do
      if entry[1] == name then load_error("Function already exists in the library") end
    end
    registered[#registered + 1] = {name, callback, description, flags}
  end

  local library_redis = {register_function = register_function, log = redis.log,
                         LOG_DEBUG = redis.LOG_DEBUG, LOG_VERBOSE = redis.LOG_VERBOSE,
                         LOG_NOTICE = redis.LOG_NOTICE, LOG_WARNING = redis.LOG_WARNING,
                         REDIS_VERSION = redis.REDIS_VERSION,
                         REDIS_VERSION_NUM = redis.REDIS_VERSION_NUM}
  local library_api = {redis = readonly_proxy(library_redis, true)}
  local current = library_api
  -- A library's environment: the library API while it loads, the globals after.
  local environment = {}
  setmetatable_(environment, {
    __metatable = false,
    __newindex = function() error_(READONLY, 2) end,
    __index = function(_, key)
      local value = rawget_(current, key)
      if value == nil then
        error_("Script attempted to access nonexistent global variable '" .. tostring_(key) .. "'", 2)
      end
      return value
    end,
  })

  local LOAD_TIMEOUT = {err = "ERR FUNCTION LOAD timeout"}
  local py_load_interrupt = py.load_interrupt
  local function timeout_hook()
    local info = getinfo(2, "S")
    if info and info.source ~= INTERNAL then error_(LOAD_TIMEOUT) end
  end
  local function load_hook()
    if py_load_interrupt() then
      sethook(timeout_hook, "l")
      error_(LOAD_TIMEOUT)
    end
  end

  -- Run a compiled library: (true, {{name, callback, description, flags}, ...})
  -- or (false, the error raised).
  function helpers.load_library(f, count)
    setfenv_(f, environment)
    registered = {}
    current = library_api
    sethook(load_hook, "", count)
    local ok, err = pcall_(f)
    sethook()
    current = G
    local functions = registered
    registered = nil
    if ok then return true, functions end
    return false, err
  end

  function helpers.call(f, keys, argv, count)
    sethook(count_hook, "", count)
    local ok, result = xpcall_(function() return f(keys, argv) end, error_handler)
    sethook()
    return ok, result
  end
end

helpers.rawget = rawget_
helpers.next = next_
helpers.null = null
return helpers
"""
