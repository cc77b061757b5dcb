"""Copy the territory file's communes and venues into the database (idempotent; run at start and by tests)."""

from __future__ import annotations

from bot.territory import Territory
from storage.database import Database
from storage.places import upsert_commune, upsert_venue


async def sync_territory(*, db: Database, territory: Territory) -> None:
    async with db.write() as session:
        for c in territory.communes:
            await upsert_commune(
                session=session,
                insee=c.insee,
                name=c.name,
                postcode=c.postcode,
                latitude=c.latitude,
                longitude=c.longitude,
            )
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
