"""Screenshot a persona's web chat, e.g. for the docs:

    python -m simulator.screenshot http://127.0.0.1:8081 --user 1000001 --out docs/webchat.png

Needs the `playwright` Python package (a dev dependency) and Chromium at /usr/bin/chromium;
it never downloads a browser.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


async def screenshot(
    base_url: str, out: Path, user_id: int, *, width: int = 1100, height: int = 820
) -> None:
    from playwright.async_api import async_playwright  # dev-only dependency

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page(viewport={"width": width, "height": height})
            await page.goto(f"{base_url.rstrip('/')}/#user={user_id}")
            await page.wait_for_selector(".bubble", timeout=10_000)
            # The page always holds a long poll open, so wait for the images, not the network.
            await page.wait_for_function("[...document.images].every((img) => img.complete)")
            await page.wait_for_timeout(300)
            out.parent.mkdir(parents=True, exist_ok=True)
            await page.screenshot(path=str(out))
        finally:
            await browser.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m simulator.screenshot")
    parser.add_argument("base_url", help="the running simulator, e.g. http://127.0.0.1:8081")
    parser.add_argument("--user", type=int, required=True, help="persona id whose chat to show")
    parser.add_argument("--out", type=Path, default=Path("docs/webchat.png"))
    args = parser.parse_args(argv)
    asyncio.run(screenshot(args.base_url, args.out, args.user))


if __name__ == "__main__":
    main()
