"""Copy the territory file's communes and venues into the database (idempotent; run at start and by tests)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from bot.territory import CommuneInfo, Territory
from storage.database import Database
from storage.places import upsert_commune, upsert_venue


async def sync_territory(*, db: Database, territory: Territory) -> None:
    async with db.write() as session:
        for c in territory.communes:
            await add_commune(session=session, commune=c)
        await session.flush()
        for v in territory.venues:
            await upsert_venue(
                session=session,
                commune_insee=v.commune_insee,
                name=v.name,
                address=v.address,
                latitude=v.latitude,
                longitude=v.longitude,
            )


async def add_commune(*, session: AsyncSession, commune: CommuneInfo) -> None:
    """The territory file's commune as a row (added, or brought up to date)."""
    await upsert_commune(
        session=session,
        insee=commune.insee,
        name=commune.name,
        postcode=commune.postcode,
        latitude=commune.latitude,
        longitude=commune.longitude,
    )
