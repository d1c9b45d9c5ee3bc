from typing import Annotated

from fastapi import APIRouter, Depends
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from src.core.database import get_db
from src.models.user import User
from src.schemas.user import UserResponse

api_router = APIRouter()


@api_router.get("/users", response_model=list[UserResponse])
async def list_users(db: Annotated[AsyncSession, Depends(get_db)]) -> list[User]:
    return list(await db.scalars(select(User).order_by(User.created_at)))
