import asyncio, time

async def handler():
    time.sleep(0.05)            # blocks the loop

async def main():
    for _ in range(3):
        await handler()
        await asyncio.sleep(1)

asyncio.run(main())
