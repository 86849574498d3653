-- SPDX-License-Identifier: GPL-2.0-only
-- GUE (draft-ietf-intarea-gue) for tshark, which has no dissector of its
-- own, so the oracle test can see inside steer's tunnels. Registered on
-- the UDP port in the preference gue.port (default 6080); like steer, it
-- only acts on the destination port. Variant 0: 4-byte header, hlen words
-- of optional fields, then the IP packet named by the proto byte (4 or
-- 41). Variant 1: the IP header follows the UDP header directly. A header
-- cut short or of an unknown kind gets a malformed expert item.

local gue = Proto("gue", "Generic UDP Encapsulation")

local pf_ver = ProtoField.uint8("gue.version", "Version")
local pf_ctrl = ProtoField.bool("gue.control", "Control message")
local pf_hlen = ProtoField.uint8("gue.hlen", "Optional fields (words)")
local pf_proto = ProtoField.uint8("gue.proto", "Protocol / control type")
local pf_flags = ProtoField.uint16("gue.flags", "Flags", base.HEX)
gue.fields = { pf_ver, pf_ctrl, pf_hlen, pf_proto, pf_flags }

local ex_bad = ProtoExpert.new("gue.malformed", "GUE header malformed",
	expert.group.MALFORMED, expert.severity.ERROR)
gue.experts = { ex_bad }

gue.prefs.port = Pref.uint("UDP port", 6080, "Destination port of GUE")

local inner = { [4] = "ip", [41] = "ipv6" }

-- The inner dissector marks a packet cut short as malformed itself; pcall
-- keeps its exception from being reported a second time as a Lua error.
local function call_inner(name, tvb, pinfo, root)
	pcall(Dissector.call, Dissector.get(name), tvb, pinfo, root)
end

local function bad(tree, tvb, why)
	tree:add_proto_expert_info(ex_bad, why)
	return tvb:len()
end

function gue.dissector(tvb, pinfo, root)
	if pinfo.dst_port ~= gue.prefs.port or tvb:len() < 1 then
		return 0
	end
	local tree = root:add(gue, tvb(0, math.min(tvb:len(), 4)))
	local b0 = tvb(0, 1):uint()
	local ver = math.floor(b0 / 64)
	tree:add(pf_ver, tvb(0, 1), ver)
	pinfo.cols.protocol = "GUE"
	if ver == 1 then
		call_inner("ip", tvb, pinfo, root)
		return tvb:len()
	end
	if ver ~= 0 then
		return bad(tree, tvb, "unknown GUE version")
	end
	if tvb:len() < 4 then
		return bad(tree, tvb, "GUE header cut short")
	end
	local ctrl = math.floor(b0 / 32) % 2 == 1
	local hlen = b0 % 32
	local proto = tvb(1, 1):uint()
	tree:add(pf_ctrl, tvb(0, 1), ctrl)
	tree:add(pf_hlen, tvb(0, 1), hlen)
	tree:add(pf_proto, tvb(1, 1))
	tree:add(pf_flags, tvb(2, 2))
	local off = 4 + 4 * hlen
	if tvb:len() < off then
		return bad(tree, tvb, "GUE optional fields cut short")
	end
	if ctrl then
		return tvb:len()
	end
	if not inner[proto] then
		return bad(tree, tvb, "GUE carries no IP packet")
	end
	call_inner(inner[proto], tvb(off):tvb(), pinfo, root)
	return tvb:len()
end

local registered = gue.prefs.port

function gue.prefs_changed()
	local udp = DissectorTable.get("udp.port")
	udp:remove(registered, gue)
	registered = gue.prefs.port
	udp:add(registered, gue)
end

DissectorTable.get("udp.port"):add(registered, gue)
