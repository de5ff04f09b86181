#!/usr/bin/python3
"""The peer crawler of bench/run.sh: an asyncio + aiohttp crawler written the way the aiohttp
tutorials write one (one ClientSession, TCPConnector(limit=64, limit_per_host=8), an
asyncio.Semaphore bounding requests in flight, html.parser for links, urllib.robotparser for
robots.txt), given the same scope as crawld: the seed hosts only, a/area hrefs resolved against
<base href>, rel=nofollow and <meta name=robots content=nofollow> obeyed, redirects followed as
new URLs in scope (so each URL is requested once), fragments dropped.

Usage: bench/aiohttp_crawler.py [--concurrency 64] [--per-host 8] SEED_URL...
Prints one line: pages fetched and seconds. Python 3.11, Debian python3-aiohttp."""
import argparse
import asyncio
import sys
import time
import urllib.robotparser
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import aiohttp
import yarl

USER_AGENT = "aiohttp-bench"


class LinkParser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.links = []  # (href, rel)
        self.base = None
        self.nofollow = False

    def handle_starttag(self, tag, attrs):
        a = {}
        for k, v in attrs:
            a.setdefault(k, v if v is not None else "")
        if tag in ("a", "area") and "href" in a:
            self.links.append((a["href"], a.get("rel", "")))
        elif tag == "base" and self.base is None and "href" in a:
            self.base = a["href"]
        elif tag == "meta" and a.get("name", "").lower() == "robots":
            content = a.get("content", "").lower().replace(",", " ").split()
            if "nofollow" in content or "none" in content:
                self.nofollow = True


def normalize(url):
    """The URL as aiohttp will request it (yarl normalizes case, dot segments and percent-encoding
    of unreserved characters), without its fragment; None when it is not http(s)."""
    try:
        u = yarl.URL(url)
    except ValueError:
        return None
    if u.scheme not in ("http", "https") or not u.host:
        return None
    return str(u.with_fragment(None))


class Crawler:
    def __init__(self, seeds, concurrency, per_host):
        self.hosts = {urlsplit(s).netloc.lower() for s in seeds}
        self.seen = set()
        self.queue = asyncio.Queue()
        self.robots = {}
        self.concurrency = concurrency
        self.per_host = per_host
        self.semaphore = asyncio.Semaphore(concurrency)
        self.pages = 0
        for s in seeds:
            self.add(s)

    def add(self, url):
        url = normalize(url)
        if url and urlsplit(url).netloc in self.hosts and url not in self.seen:
            self.seen.add(url)
            self.queue.put_nowait(url)

    async def allowed(self, session, url):
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        rp = self.robots.get(origin)
        if rp is None:
            rp = self.robots[origin] = asyncio.get_running_loop().create_future()
            parser = urllib.robotparser.RobotFileParser()
            try:
                async with session.get(origin + "/robots.txt") as r:
                    if r.status >= 500:
                        parser.disallow_all = True
                    elif r.status >= 400:
                        parser.allow_all = True
                    else:
                        parser.parse((await r.text(encoding="utf-8", errors="replace")).splitlines())
            except aiohttp.ClientError:
                parser.disallow_all = True
            rp.set_result(parser)
        return (await rp).can_fetch(USER_AGENT, url)

    async def fetch(self, session, url):
        if not await self.allowed(session, url):
            return
        async with self.semaphore:
            try:
                async with session.get(url, allow_redirects=False) as r:
                    self.pages += 1
                    if r.status in (301, 302, 303, 307, 308) and "Location" in r.headers:
                        self.add(urljoin(url, r.headers["Location"]))
                        return
                    if r.status != 200 or "html" not in r.headers.get("Content-Type", ""):
                        await r.read()
                        return
                    html = await r.text(encoding="utf-8", errors="replace")  # no charset sniffing (0.1 s a page)
            except (aiohttp.ClientError, asyncio.TimeoutError):
                return
        p = LinkParser()
        p.feed(html)
        if p.nofollow:
            return
        base = urljoin(url, p.base) if p.base else url
        for href, rel in p.links:
            if "nofollow" not in rel.lower().split():
                self.add(urljoin(base, href.strip()))

    async def worker(self, session):
        while True:
            url = await self.queue.get()
            try:
                await self.fetch(session, url)
            finally:
                self.queue.task_done()

    async def run(self):
        connector = aiohttp.TCPConnector(limit=self.concurrency, limit_per_host=self.per_host)
        headers = {"User-Agent": USER_AGENT}
        async with aiohttp.ClientSession(connector=connector, headers=headers) as session:
            workers = [asyncio.create_task(self.worker(session)) for _ in range(self.concurrency)]
            await self.queue.join()
            for w in workers:
                w.cancel()
            await asyncio.gather(*workers, return_exceptions=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--per-host", type=int, default=8)
    ap.add_argument("seeds", nargs="+")
    args = ap.parse_args()
    start = time.monotonic()
    c = Crawler(args.seeds, args.concurrency, args.per_host)
    asyncio.run(c.run())
    print(f"aiohttp: {c.pages} pages in {time.monotonic() - start:.2f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
