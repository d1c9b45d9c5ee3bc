"""The users API that claude-sonnet-4-fastapi-team's samples describe, made to run.

Its "RESTful API" and "Database Integration" samples together, with what they lack:
the imports, SQLAlchemy 2's DeclarativeBase, Pydantic v2's model_dump, aware
timestamps, and SQLite instead of a PostgreSQL server. The agent's test sample runs
against it.
"""

from datetime import UTC, datetime
from uuid import uuid4

from fastapi import Depends, FastAPI, HTTPException
from pydantic import BaseModel, ConfigDict, EmailStr
from sqlalchemy import DateTime, Integer, String, create_engine, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker
from sqlalchemy.pool import StaticPool


class Base(DeclarativeBase):
    pass


class UserModel(Base):
    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String, primary_key=True, default=lambda: str(uuid4()))
    name: Mapped[str] = mapped_column(String)
    email: Mapped[str] = mapped_column(String, unique=True, index=True)
    age: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=lambda: datetime.now(UTC))


class UserCreate(BaseModel):
    name: str
    email: EmailStr
    age: int | None = None


class User(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    email: EmailStr
    age: int | None
    created_at: datetime


def create_app() -> FastAPI:
    """A new application with an empty in-memory database."""
    # StaticPool: one connection, so the in-memory database outlives each session.
    engine = create_engine("sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False})
    Base.metadata.create_all(engine)
    sessions = sessionmaker(bind=engine)

    def get_db():
        with sessions() as db:
            yield db

    app = FastAPI(title="User API", version="1.0.0")

    @app.post("/users", response_model=User, status_code=201)
    def create_user(user: UserCreate, db: Session = Depends(get_db)) -> UserModel:
        db_user = UserModel(**user.model_dump())
        db.add(db_user)
        db.commit()
        db.refresh(db_user)
        return db_user

    @app.get("/users", response_model=list[User])
    def list_users(skip: int = 0, limit: int = 100, db: Session = Depends(get_db)) -> list[UserModel]:
        return list(db.scalars(select(UserModel).offset(skip).limit(limit)))

    @app.get("/users/{user_id}", response_model=User)
    def get_user(user_id: str, db: Session = Depends(get_db)) -> UserModel:
        user = db.get(UserModel, user_id)
        if user is None:
            raise HTTPException(status_code=404, detail="User not found")
        return user

    return app
