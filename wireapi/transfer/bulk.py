"""placeholder"""
async def run_bulk(runtime, job, finish, heartbeat):
    raise NotImplementedError
