from fastapi import FastAPI
from mangum import Mangum

app = FastAPI()


@app.get("/")
async def root() -> dict[str, str]:
    return {"message": "Hello, world!"}


handler = Mangum(app, lifespan="off")
