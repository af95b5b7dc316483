"""Minimal MQTT 3.1/3.1.1/5.0 packet builder and parser for raw-socket integration tests.

Deliberately independent of the broker's codec: the tests must not share bugs with the code
under test. Only what the tests need is implemented.
"""

import struct

CONNECT, CONNACK, PUBLISH, PUBACK, PUBREC, PUBREL, PUBCOMP = 1, 2, 3, 4, 5, 6, 7
SUBSCRIBE, SUBACK, UNSUBSCRIBE, UNSUBACK, PINGREQ, PINGRESP, DISCONNECT, AUTH = range(8, 16)

# Property identifiers (MQTT 5.0 section 2.2.2.2) and their wire types.
PROP_TYPES = {
    0x01: "byte", 0x02: "int4", 0x03: "str", 0x08: "str", 0x09: "bin", 0x0B: "varint",
    0x11: "int4", 0x12: "str", 0x13: "int2", 0x15: "str", 0x16: "bin", 0x17: "byte",
    0x18: "int4", 0x19: "byte", 0x1A: "str", 0x1C: "str", 0x1F: "str", 0x21: "int2",
    0x22: "int2", 0x23: "int2", 0x24: "byte", 0x25: "byte", 0x26: "pair", 0x27: "int4",
    0x28: "byte", 0x29: "byte", 0x2A: "byte",
}
PAYLOAD_FORMAT, MESSAGE_EXPIRY, CONTENT_TYPE, RESPONSE_TOPIC, CORRELATION_DATA = (
    0x01, 0x02, 0x03, 0x08, 0x09)
SUBSCRIPTION_ID, SESSION_EXPIRY, ASSIGNED_CLIENT_ID, SERVER_KEEP_ALIVE = 0x0B, 0x11, 0x12, 0x13
REQUEST_RESPONSE_INFO, RESPONSE_INFO, REASON_STRING, RECEIVE_MAXIMUM = 0x19, 0x1A, 0x1F, 0x21
TOPIC_ALIAS_MAXIMUM, TOPIC_ALIAS, MAXIMUM_QOS, RETAIN_AVAILABLE, USER_PROPERTY = (
    0x22, 0x23, 0x24, 0x25, 0x26)
MAXIMUM_PACKET_SIZE, WILDCARD_SUB_AVAILABLE, SUB_ID_AVAILABLE, SHARED_SUB_AVAILABLE = (
    0x27, 0x28, 0x29, 0x2A)
WILL_DELAY = 0x18


def varint(n):
    out = bytearray()
    while True:
        b = n % 128
        n //= 128
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def utf8(s):
    b = s.encode("utf-8") if isinstance(s, str) else bytes(s)
    return struct.pack("!H", len(b)) + b


def properties(props):
    """props: list of (id, value) pairs; USER_PROPERTY values are (key, value) tuples."""
    body = bytearray()
    for pid, value in props or []:
        kind = PROP_TYPES[pid]
        body += varint(pid)
        if kind == "byte":
            body += struct.pack("!B", value)
        elif kind == "int2":
            body += struct.pack("!H", value)
        elif kind == "int4":
            body += struct.pack("!I", value)
        elif kind == "varint":
            body += varint(value)
        elif kind in ("str", "bin"):
            body += utf8(value)
        elif kind == "pair":
            body += utf8(value[0]) + utf8(value[1])
    return varint(len(body)) + bytes(body)


def packet(ptype, flags, body):
    return bytes([(ptype << 4) | flags]) + varint(len(body)) + bytes(body)


def connect(client_id="", version=5, clean=True, keepalive=60, props=None, will=None,
            username=None, password=None, protocol_name=None):
    """will: dict(topic, payload, qos=0, retain=False, props=None)."""
    name = protocol_name or ("MQIsdp" if version == 3 else "MQTT")
    flags = 0x02 if clean else 0
    if will:
        flags |= 0x04 | (will.get("qos", 0) << 3) | (0x20 if will.get("retain") else 0)
    if username is not None:
        flags |= 0x80
    if password is not None:
        flags |= 0x40
    body = utf8(name) + bytes([version, flags]) + struct.pack("!H", keepalive)
    if version == 5:
        body += properties(props)
    body += utf8(client_id)
    if will:
        if version == 5:
            body += properties(will.get("props"))
        body += utf8(will["topic"]) + utf8(will["payload"])
    if username is not None:
        body += utf8(username)
    if password is not None:
        body += utf8(password)
    return packet(CONNECT, 0, body)


def publish(topic, payload=b"", qos=0, pid=None, retain=False, dup=False, version=5, props=None):
    flags = (qos << 1) | (1 if retain else 0) | (8 if dup else 0)
    body = utf8(topic)
    if qos:
        body += struct.pack("!H", pid if pid is not None else 1)
    if version == 5:
        body += properties(props)
    payload = payload.encode() if isinstance(payload, str) else payload
    return packet(PUBLISH, flags, body + payload)


def ack(ptype, pid, version=5, reason=None):
    """PUBACK/PUBREC/PUBREL/PUBCOMP; PUBREL carries the mandatory flags 0b0010."""
    body = struct.pack("!H", pid)
    if version == 5 and reason is not None:
        body += bytes([reason])
    return packet(ptype, 2 if ptype == PUBREL else 0, body)


def subscribe(pid, filters, version=5, props=None):
    """filters: list of (filter, options_byte)."""
    body = struct.pack("!H", pid)
    if version == 5:
        body += properties(props)
    for topic_filter, options in filters:
        body += utf8(topic_filter) + bytes([options])
    return packet(SUBSCRIBE, 2, body)


def unsubscribe(pid, filters, version=5):
    body = struct.pack("!H", pid) + (properties(None) if version == 5 else b"")
    for topic_filter in filters:
        body += utf8(topic_filter)
    return packet(UNSUBSCRIBE, 2, body)


def pingreq():
    return packet(PINGREQ, 0, b"")


def disconnect(reason=None, props=None, version=5):
    if version != 5 or reason is None:
        return packet(DISCONNECT, 0, b"")
    return packet(DISCONNECT, 0, bytes([reason]) + (properties(props) if props else b""))


# ---------------------------------------------------------------------------------- parsing


def read_varint(data, pos):
    value, shift = 0, 0
    while True:
        b = data[pos]
        pos += 1
        value |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return value, pos


def read_str(data, pos):
    (n,) = struct.unpack_from("!H", data, pos)
    return bytes(data[pos + 2:pos + 2 + n]), pos + 2 + n


def parse_properties(data, pos):
    """Returns (dict id -> value or list of values for repeated ids, new pos)."""
    length, pos = read_varint(data, pos)
    end = pos + length
    props = {}
    while pos < end:
        pid, pos = read_varint(data, pos)
        kind = PROP_TYPES[pid]
        if kind == "byte":
            value, pos = data[pos], pos + 1
        elif kind == "int2":
            value, pos = struct.unpack_from("!H", data, pos)[0], pos + 2
        elif kind == "int4":
            value, pos = struct.unpack_from("!I", data, pos)[0], pos + 4
        elif kind == "varint":
            value, pos = read_varint(data, pos)
        elif kind == "str":
            raw, pos = read_str(data, pos)
            value = raw.decode("utf-8")
        elif kind == "bin":
            value, pos = read_str(data, pos)
        else:
            k, pos = read_str(data, pos)
            v, pos = read_str(data, pos)
            value = (k.decode(), v.decode())
        if pid in (USER_PROPERTY, SUBSCRIPTION_ID):
            props.setdefault(pid, []).append(value)
        else:
            props[pid] = value
    return props, end


class Packet:
    """A decoded packet. Fields depend on type; `raw` keeps the bytes."""

    def __init__(self, first, body, version):
        self.type = first >> 4
        self.flags = first & 0x0F
        self.body = body
        self.version = version
        self.props = {}
        self.reason = 0
        self._parse()

    def _parse(self):
        b, v5 = self.body, self.version == 5
        if self.type == CONNACK:
            self.session_present = bool(b[0] & 1)
            self.reason = b[1]
            if v5 and len(b) > 2:
                self.props, _ = parse_properties(b, 2)
        elif self.type == PUBLISH:
            self.qos = (self.flags >> 1) & 3
            self.dup = bool(self.flags & 8)
            self.retain = bool(self.flags & 1)
            topic, pos = read_str(b, 0)
            self.topic = topic.decode("utf-8")
            self.pid = None
            if self.qos:
                self.pid = struct.unpack_from("!H", b, pos)[0]
                pos += 2
            if v5:
                self.props, pos = parse_properties(b, pos)
            self.payload = bytes(b[pos:])
        elif self.type in (PUBACK, PUBREC, PUBREL, PUBCOMP, UNSUBACK, SUBACK):
            self.pid = struct.unpack_from("!H", b, 0)[0]
            pos = 2
            if self.type in (SUBACK, UNSUBACK):
                if v5:
                    self.props, pos = parse_properties(b, pos)
                self.codes = list(b[pos:])
            elif v5 and len(b) > 2:
                self.reason = b[2]
                if len(b) > 3:
                    self.props, _ = parse_properties(b, 3)
        elif self.type == DISCONNECT:
            if len(b) >= 1:
                self.reason = b[0]
            if len(b) > 1:
                self.props, _ = parse_properties(b, 1)

    def __repr__(self):
        names = {1: "CONNECT", 2: "CONNACK", 3: "PUBLISH", 4: "PUBACK", 5: "PUBREC",
                 6: "PUBREL", 7: "PUBCOMP", 8: "SUBSCRIBE", 9: "SUBACK", 10: "UNSUBSCRIBE",
                 11: "UNSUBACK", 12: "PINGREQ", 13: "PINGRESP", 14: "DISCONNECT", 15: "AUTH"}
        return "<%s flags=%d reason=0x%02x body=%s>" % (
            names.get(self.type, "?"), self.flags, self.reason, bytes(self.body[:40]).hex())
