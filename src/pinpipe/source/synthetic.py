"""A faithful synthetic version of the course's source database (SPEC §1), streamed in batches.

* Rows are planned in windows of ~11,154 rows (the real table's size): a scaled table looks like
  copies of the real one and memory stays flat. Posters draw post counts from the real count
  distribution; a poster keeps most posts in one category block.
* A poster's user and geo rows are one fake identity whose every field is the minimum of k draws
  (k = its post count). That is why prolific posters are 20-year-old "A" names in "A" countries
  near (-90, -180), and it reproduces the real age, join-year, sign and country skews.
* Uniqueness holds by construction, with no per-row state: join seconds and lat/lon cells carry
  the window number as a residue, poster names are drawn without replacement through keyed
  permutations, and post times are stratified (each row its own stratum of seconds).
"""

from __future__ import annotations

import math
import random
import re
from bisect import bisect_right
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pinpipe import records as rec
from pinpipe.source import vocabulary as voc

Row = tuple[Any, ...]
DEFAULT_ROWS = 11_154
#: Timestamps need at least two seconds per row in the real five-year range.
MAX_ROWS = 50_000_000


@dataclass(frozen=True, slots=True)
class SourceBatch:
    pins: list[Row]  # rows in PIN.column_names order
    geos: list[Row]  # GEO.column_names order
    users: list[Row]  # USER.column_names order


def _epoch(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp())


TS_MIN, TS_MAX = _epoch("2017-10-19 15:13:42"), _epoch("2022-10-19 17:54:26")
DJ_MIN, DJ_MAX = _epoch("2015-10-21 03:17:47"), _epoch("2017-10-20 10:44:26")
MIN_GAP = 18 * 86_400  # a post is at least 18 days after its user joined
LAT_LO, LAT_HI = -899_796, 899_946  # 1e-4 degree units (the real extremes)
LON_LO, LON_HI = -179_908, 179_935  # 1e-3 degree units

# Rates of the 1,540 clean raw pin rows (SPEC §1.2), per row unless stated.
P_ERROR = 0.0091  # the fully broken "User Info Error" rows
P_STORY = 0.0590  # of the other rows: story format ...
P_VIDEO = 0.0295  # ... and video (the rest are images)
P_STORY_SRC_ERROR = 0.211  # of those stories: "Image src error."
P_NO_DESC_IMAGE, P_NO_DESC_VIDEO = 0.0151, 0.04
P_NO_TAGS = 0.0046
P_CUT = 0.393  # of the rows with a real description: cut to 177 chars + "…\xa0"
P_FAR = 0.12  # a post outside its poster's home block
P_POSTER_SPACE = 0.024  # of posters with at most 30 posts: ~2% of rows, steadily
P_JITTER = 0.04
CUT_AT = 177
# Posters per post count 1..10 in the real table, then a capped Pareto tail of weight 98.
COUNT_WEIGHTS = (3869, 640, 272, 156, 88, 65, 36, 35, 22, 25)
TAIL_WEIGHT, TAIL_ALPHA, TAIL_CAP = 98, 1.5, 250
FOLLOWER_MEAN = tuple(4.4 + 0.2 * math.log10(max(k, 1)) for k in range(TAIL_CAP + 1))
GOLDEN = (math.sqrt(5) - 1) / 2
ERROR_K = 100  # the broken rows' identity looks like a ~100-post poster
UUID_CLEAR = ((1 << 128) - 1) ^ ((0xF << 76) | (0x3 << 62))
UUID_SET = (0x4 << 76) | (0x2 << 62)
ORIGINALS = "https://i.pinimg.com/originals/"
THUMBNAILS = "https://i.pinimg.com/videos/thumbnails/originals/"

FIRST = tuple(sorted(voc.FIRST_NAMES))
LAST = tuple(sorted(voc.LAST_NAMES))
COUNTRIES = tuple(sorted(voc.COUNTRIES))
N_FIRST, N_LAST, N_COUNTRIES = len(FIRST), len(LAST), len(COUNTRIES)


def _permutation(size: int, rng: random.Random) -> Callable[[int], int]:
    """A keyed bijection of range(size): xorshift-multiply rounds with cycle walking."""
    bits = max(size - 1, 1).bit_length()
    mask = (1 << bits) - 1
    m1, m2 = rng.getrandbits(bits) | 1, rng.getrandbits(bits) | 1
    a1, a2 = rng.getrandbits(bits), rng.getrandbits(bits)
    s1, s2 = bits // 2 + 1, bits // 3 + 1

    def permute(x: int) -> int:
        while True:
            x = (x * m1 + a1) & mask
            x ^= x >> s1
            x = (x * m2 + a2) & mask
            x ^= x >> s2
            if x < size:
                return x

    return permute


class _Namer:
    """Unique poster names: families of name shapes, each drawn without replacement."""

    def __init__(self, rng: random.Random) -> None:
        shapes = voc.NAME_SHAPES
        self._cum = [sum(shape[0] for shape in shapes[: i + 1]) for i in range(len(shapes))]
        self._families: list[list[Any]] = []
        for _, fmt, keys in shapes:
            lists = [voc.NAME_WORDS[key] for key in keys]
            size = math.prod(len(w) for w in lists)
            self._families.append([0, size, _permutation(size, rng), fmt, lists])
        self._handles = 0

    def __call__(self, rnd: Callable[[], float]) -> str:
        i = bisect_right(self._cum, rnd())
        if i < len(self._families) and (family := self._families[i])[0] < family[1]:
            index = family[2](family[0])
            family[0] += 1
            parts = []
            for words in family[4]:
                index, digit = divmod(index, len(words))
                parts.append(words[digit])
            return str(family[3].format(*parts))
        # Handles, also the fallback of exhausted families: their digits make them unique.
        self._handles += 1
        first, last = FIRST[int(rnd() * N_FIRST)].lower(), LAST[int(rnd() * N_LAST)].lower()
        sep = ("", "", "_", ".")[int(rnd() * 4)]
        return f"{first}{sep}{last}{self._handles * 100 + int(rnd() * 100)}"


def _category_tables(rng: random.Random) -> list[tuple[Any, ...]]:
    """Per category, the pieces the hot loop picks from (pools sized 2**k for getrandbits)."""
    adjectives = tuple(a + " " for a in voc.TITLE_ADJECTIVES)
    adjectives += ("",) * (64 - len(adjectives))
    numbers = (5, 7, 10, 12, 15, 20, 21, 25, 30, 35, 40, 50, 75, 100)
    tables: list[tuple[Any, ...]] = []
    for cat, v in voc.CATEGORY_VOCAB.items():
        parts = []
        for _ in range(1024):
            n, year, topic = rng.choice(numbers), rng.randrange(2018, 2023), rng.choice(v["topics"])
            text = rng.choice(voc.TITLE_TEMPLATES).format(n=n, y=year, t=topic, a="\0")
            x, _, y = text.partition("\0")
            if rng.random() < 0.45:
                sfx = rng.choice(voc.TITLE_SUFFIXES)
                y += sfx if sfx[0] == ":" else " " + sfx
            parts.append((x, y))
        own = [s.format(t=t.lower()) for s in v["sents"] for t in v["topics"]]
        mixed = own + list(voc.GENERIC_SENTENCES) * 4
        tags = v["tags_a"] + v["tags_b"]
        hashtags = tuple(
            " ".join(
                "#" + re.sub(r"\W", "", t.lower()) for t in rng.sample(tags, rng.randint(3, 6))
            )
            for _ in range(64)
        )
        half_a = tuple(",".join(rng.sample(v["tags_a"], 5)) for _ in range(256))
        half_b = tuple("," + ",".join(rng.sample(v["tags_b"], 4)) for _ in range(256))
        pools = (tuple(rng.choices(own, k=256)), tuple(rng.choices(mixed, k=512)), hashtags)
        tables.append((cat, f"Local save in /data/{cat}", tuple(parts), adjectives, *pools))
        tables[-1] += (half_a, half_b)
    return tables


def _fine(cell: int, scale: int, rnd: Callable[[], float]) -> float:
    """A value in grid cell ``cell`` (units 1/scale) with extra digits, so that values below
    10 degrees of latitude or 100 of longitude keep about six significant digits."""
    digits, limit = 10, 10_000
    while -limit < cell < limit and digits < 1000:
        digits, limit = digits * 10, limit // 10
    return (cell * digits + int(rnd() * digits)) / (scale * digits)


class _Generator:
    def __init__(self, rows: int, seed: int) -> None:
        self.rows = rows
        self.rng = random.Random(f"pinpipe.synthetic/{seed}")
        init = random.Random(f"pinpipe.synthetic.vocabulary/{seed}")
        self.tables = _category_tables(init)
        self.namer = _Namer(init)
        self.windows = max(1, -(-rows // voc.REAL_ROWS))
        self.dj_mod = self.windows + 1  # residues of join seconds: one per window + the error id
        self.dj_coarse = (DJ_MAX - DJ_MIN + 1) // self.dj_mod
        self.side = math.isqrt(self.windows) + 1  # side**2 > windows: geo cell residues
        self.lat_coarse = (LAT_HI - LAT_LO + 1) // self.side
        self.lon_coarse = (LON_HI - LON_LO + 1) // self.side
        self.grid = (self.dj_coarse, self.dj_mod, self.side, self.lat_coarse, self.lon_coarse)
        self.stratum = (TS_MAX - TS_MIN + 1) // max(rows, 1)
        self.cat_starts = [round(rows * s / voc.REAL_ROWS) for s in voc.REAL_BLOCK_STARTS]
        total = sum(COUNT_WEIGHTS) + TAIL_WEIGHT
        self.count_cum = [sum(COUNT_WEIGHTS[: i + 1]) / total for i in range(len(COUNT_WEIGHTS))]
        err_rnd = random.Random(f"pinpipe.synthetic.error/{seed}").random
        ident = self._poster(ERROR_K, self.windows, set(), set(), err_rnd)[3:]
        self.error = (rec.USER_INFO_ERROR, rec.USER_INFO_ERROR, 0, *ident)

    def _poster(
        self, k: int, window: int, used_dj: set[int], used_geo: set[int], rnd: Callable[[], float]
    ) -> tuple[Any, ...]:
        """(name, followers, kilo, first, last, age, joined, lat, lon, country, joined_s, k).

        ``kilo`` is the follower count in thousands when it may jitter by one between posts.
        The identity fields are each the minimum of k uniform draws.
        """
        name = self.namer(rnd)
        if rnd() < P_POSTER_SPACE and k <= 30:
            name += " "
        r = rnd()  # log10 of the follower count: a few tiny accounts, else ~normal(mean, 1.1)
        x = r * 30.0 if r < 0.08 else FOLLOWER_MEAN[k] + (rnd() + rnd() + rnd() - 1.5) * 2.2
        kilo = 0
        if x < 3.0:
            followers = str(int(10.0**x) if x > 0.0 else 0)
        elif x < 6.0:
            kilo = int(10.0 ** (x - 3.0))  # 1k..999k, never 1000k
            followers = f"{kilo}k"
            kilo = kilo if kilo >= 10 else 0
        else:
            followers = f"{int(10.0 ** (min(x, 7.2) - 6.0))}M"
        u0, u1, u2, u3, u4, u5, u6 = rnd(), rnd(), rnd(), rnd(), rnd(), rnd(), rnd()
        if k > 1:
            inv = 1.0 / k
            u0, u1, u2 = 1.0 - (1.0 - u0) ** inv, 1.0 - (1.0 - u1) ** inv, 1.0 - (1.0 - u2) ** inv
            u3, u4, u5 = 1.0 - (1.0 - u3) ** inv, 1.0 - (1.0 - u4) ** inv, 1.0 - (1.0 - u5) ** inv
            u6 = 1.0 - (1.0 - u6) ** inv
        dj_coarse, dj_mod, side, lat_coarse, lon_coarse = self.grid
        q = int(u3 * dj_coarse)
        while q in used_dj:
            q = (q + 1) % dj_coarse
        used_dj.add(q)
        joined = DJ_MIN + q * dj_mod + (window + q * 40_503) % dj_mod
        lc, oc = int(u4 * lat_coarse), int(u5 * lon_coarse)
        while lc * lon_coarse + oc in used_geo:
            oc = (oc + 1) % lon_coarse
        used_geo.add(lc * lon_coarse + oc)
        r = (window + lc * 9_973 + oc * 7_919) % (side * side)
        lat = LAT_LO + lc * side + r // side
        lat_v = _fine(lat, 10_000, rnd) if -100_000 < lat < 100_000 else lat / 10_000
        lon = LON_LO + oc * side + r % side
        lon_v = _fine(lon, 1_000, rnd) if -100_000 < lon < 100_000 else lon / 1_000
        user = (FIRST[int(u0 * N_FIRST)], LAST[int(u1 * N_LAST)], 20 + int(u2 * 41))
        geo = (lat_v, lon_v, COUNTRIES[int(u6 * N_COUNTRIES)])
        return (name, followers, kilo, *user, datetime.fromtimestamp(joined, UTC), *geo, joined, k)

    def _plan(self, window: int, size: int) -> tuple[list[int], list[Any]]:
        """Which poster writes each row of a window.

        The window is cut into 13 blocks like the real table's categories, each filled exactly.
        Errors go anywhere. A poster with several posts picks a home block (in proportion to the
        free slots) and puts each post there unless it lands "far" (P_FAR) or the block is full.
        One-post posters, alike by construction, fill the slots left.
        """
        rnd, bits, cum = self.rng.random, self.rng.getrandbits, self.count_cum
        subs = [round(size * s / voc.REAL_ROWS) for s in voc.REAL_BLOCK_STARTS] + [size]
        caps = [subs[b + 1] - subs[b] for b in range(len(voc.REAL_BLOCK_STARTS))]
        blocks: list[list[int]] = [[] for _ in caps]
        left = size

        def pick() -> int:  # a block, in proportion to its free slots
            x, b = rnd() * left, 0
            while x >= caps[b] or not caps[b]:
                x -= caps[b]
                b += 1
            return b

        for _ in range(sum(1 for _ in range(size) if rnd() < P_ERROR)):
            e = pick()
            caps[e] -= 1
            left -= 1
            blocks[e].append(bits(40) << 24)  # pid 0: the error identity
        posters: list[Any] = [self.error]
        used_dj: set[int] = set()
        used_geo: set[int] = set()
        singles, u = left, rnd()
        while singles > 0:
            # Post counts from a golden-ratio sequence of quantiles rather than independent
            # draws: the heavy tail then cannot swing the number of posters by much.
            u = (u + GOLDEN) % 1.0
            k = bisect_right(cum, u) + 1
            if k > 10:  # the Pareto tail
                v = (u - cum[-1]) / (1.0 - cum[-1])
                k = min(TAIL_CAP, int(10.5 * (1.0 - v) ** (-1 / TAIL_ALPHA) + 0.5))
            k = min(k, singles)
            singles -= k
            pid = len(posters)
            posters.append(self._poster(k, window, used_dj, used_geo, rnd))
            if k == 1:
                continue
            home = pick()
            for _ in range(k):
                b = home if caps[home] and rnd() >= P_FAR else pick()
                caps[b] -= 1
                left -= 1
                blocks[b].append(bits(40) << 24 | pid)
        pids = (pid for pid, p in enumerate(posters) if p[11] == 1)
        for b, keys in enumerate(blocks):
            keys += [bits(40) << 24 | next(pids) for _ in range(caps[b])]
        plan: list[int] = []
        for keys in blocks:
            keys.sort()
            plan += [key & 0xFFFFFF for key in keys]
        return plan, posters

    def run(self) -> Iterator[tuple[list[Row], list[Row], list[Row]]]:
        q, extra = divmod(self.rows, self.windows)
        start = 0
        for w in range(self.windows):
            size = q + (w < extra)
            if size:
                yield self._window(w, start, size)
            start += size

    def _window(self, w: int, start: int, size: int) -> tuple[list[Row], list[Row], list[Row]]:
        rng, rows, width, nw = self.rng, self.rows, self.stratum, self.windows
        rnd, bits = rng.random, rng.getrandbits
        plan, posters = self._plan(w, size)
        # This window's timestamp strata w, w + nw, w + 2 nw, ... in random order.
        order = sorted([bits(40) << 24 | i for i in range(size)])
        firsts = [TS_MIN + (w + nw * (key & 0xFFFFFF)) * width for key in order]
        mirror, span = 2 * TS_MIN + rows * width - 1, width - 1
        err, emoji, tiny = self.error, voc.EMOJI, voc.TINY_DESCRIPTIONS
        story, story_desc, src_error = (
            rec.STORY_FORMAT,
            rec.NO_DESCRIPTION_STORY,
            rec.IMAGE_SRC_ERROR,
        )
        from_ts = datetime.fromtimestamp
        pins: list[Row] = []
        geos: list[Row] = []
        users: list[Row] = []
        add_pin, add_geo, add_user = pins.append, geos.append, users.append
        starts = [*self.cat_starts[1:], rows]
        ci = bisect_right(self.cat_starts, start) - 1
        nxt = starts[ci]
        cat, save, parts, adjs, own, mixed, tags_h, half_a, half_b = self.tables[ci]
        for n, pi, first_s in zip(range(start, start + size), plan, firsts, strict=True):
            while n >= nxt:
                ci += 1
                nxt = starts[ci]
                cat, save, parts, adjs, own, mixed, tags_h, half_a, half_b = self.tables[ci]
            p = posters[pi]
            name, followers, kilo, first, last, age, joined, lat, lon, country, joined_s, _ = p
            b = (bits(128) & UUID_CLEAR | UUID_SET).to_bytes(16)
            uid = f"{b[:4].hex()}-{b[4:10].hex('-', 2)}-{b[10:].hex()}"  # 8-4-4-4-12
            if p is err:
                pin: Row = (n, uid, rec.NO_TITLE, story_desc, name, followers, rec.NO_TAGS)
                pin += (story, src_error, 0, save, cat)
            else:
                x, y = parts[bits(10)]
                title = x + adjs[bits(6)] + y
                r = rnd()
                if r < 0.124:
                    if r < 0.03:
                        title = title.upper()
                    elif r < 0.055:
                        title = title.lower()
                    elif r < 0.105 and name[0].isupper():
                        title = f"{title} - {name.strip()}"
                    elif r < 0.1225:
                        title += emoji[int(rnd() * len(emoji))] * (1 + int(rnd() * 3))
                    else:
                        title += " "
                raw = bits(128).to_bytes(16)
                h = f"{raw[:3].hex('/')}/{raw.hex()}"  # xx/yy/zz/<32 hex>
                r, downloaded = rnd(), 1
                if r < P_STORY:
                    kind, desc, src = story, story_desc, f"{THUMBNAILS}{h}.0000001.jpg"
                    if rnd() < P_STORY_SRC_ERROR:
                        src, downloaded = src_error, 0
                else:
                    if r < P_STORY + P_VIDEO:
                        kind, src = "video", f"{THUMBNAILS}{h}.0000001.jpg"
                        bare = rnd() < P_NO_DESC_VIDEO
                    else:
                        e = rnd()
                        ext = "jpg" if e < 0.825 else "png" if e < 0.994 else "webp"
                        kind, src = "image", f"{ORIGINALS}{h}.{ext}"
                        bare = rnd() < P_NO_DESC_IMAGE
                    if bare:
                        desc = rec.NO_DESCRIPTION
                    elif rnd() < P_CUT:
                        desc = f"{own[bits(8)]} {mixed[bits(9)]}"
                        while len(desc) <= CUT_AT:
                            desc += " " + mixed[bits(9)]
                        desc = desc[:CUT_AT].rstrip() + "…\xa0"
                    else:
                        r = rnd()
                        if r < 0.05:
                            desc = tiny[int(rnd() * len(tiny))]
                        elif r < 0.09:
                            desc = title.strip()
                        elif r < 0.14:
                            desc = tags_h[bits(6)]
                        else:
                            desc = own[bits(8)]
                            if r < 0.2:
                                desc = f"{desc} {tags_h[bits(6)]}"[:CUT_AT]
                            elif r >= 0.3:  # more complete sentences while they fit
                                for _ in range(3):
                                    more = f"{desc} {mixed[bits(9)]}"
                                    if len(more) > CUT_AT:
                                        break
                                    desc = more
                            if rnd() < 0.013:
                                desc += " " + emoji[int(rnd() * len(emoji))]
                r = rnd()
                if r < P_NO_TAGS:
                    tags = rec.NO_TAGS
                elif r < P_NO_TAGS + 0.001:  # rarely fewer than 9 tags
                    tags = half_a[bits(8)].partition(",")[2] + half_b[bits(8)]
                else:
                    tags = half_a[bits(8)] + half_b[bits(8)]
                if kilo and (r := rnd()) < P_JITTER:  # e.g. 500k -> 501k
                    followers = f"{kilo - 1 if r < P_JITTER / 2 or kilo == 999 else kilo + 1}k"
                pin = (n, uid, title, desc, name, followers, tags, kind, src, downloaded, save, cat)
            add_pin(pin)
            t = first_s + int(rnd() * span)  # never the stratum's last second, except:
            if t < joined_s + MIN_GAP:  # (rare) the last second of the mirrored stratum
                t = mirror - first_s
            add_geo((n, from_ts(t, UTC), lat, lon, country))
            add_user((n, first, last, age, joined))
        return pins, geos, users


def generate(
    rows: int = DEFAULT_ROWS, seed: int = 0, batch_size: int = 10_000
) -> Iterator[SourceBatch]:
    """Stream ``rows`` posts (pin, geo and user rows with keys 0..rows-1) in batches.

    Deterministic per (rows, seed); each batch holds at most ``batch_size`` rows per table.
    """
    if rows < 0 or rows > MAX_ROWS:
        msg = f"rows={rows} must be between 0 and {MAX_ROWS:,}"
        raise ValueError(msg)
    if batch_size < 1:
        msg = f"batch_size={batch_size} must be at least 1"
        raise ValueError(msg)
    return _batches(_Generator(rows, seed).run() if rows else iter(()), batch_size)


def _batches(
    windows: Iterator[tuple[list[Row], list[Row], list[Row]]], size: int
) -> Iterator[SourceBatch]:
    pins: list[Row] = []
    geos: list[Row] = []
    users: list[Row] = []
    for p, g, u in windows:
        pins += p
        geos += g
        users += u
        while len(pins) >= size:
            yield SourceBatch(pins[:size], geos[:size], users[:size])
            del pins[:size], geos[:size], users[:size]
    if pins:
        yield SourceBatch(pins, geos, users)
