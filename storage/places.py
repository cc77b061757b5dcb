"""Communes and venues: kept in the database so workshops can point at them; the territory file is the source."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Commune, Venue


async def upsert_commune(
    *, session: AsyncSession, insee: str, name: str, postcode: str, latitude: float, longitude: float
) -> Commune:
    commune = await session.get(Commune, insee)
    if commune is None:
        commune = Commune(insee=insee)
        session.add(commune)
    commune.name, commune.postcode, commune.latitude, commune.longitude = name, postcode, latitude, longitude
    return commune


async def find_venue(*, session: AsyncSession, commune_insee: str, name: str) -> Venue | None:
    result = await session.execute(select(Venue).where(Venue.commune_insee == commune_insee, Venue.name == name))
    return result.unique().scalar_one_or_none()


async def upsert_venue(
    *,
    session: AsyncSession,
    commune_insee: str,
    name: str,
    address: str,
    latitude: float,
    longitude: float,
) -> Venue:
    venue = await find_venue(session=session, commune_insee=commune_insee, name=name)
    if venue is None:
        venue = Venue(commune_insee=commune_insee, name=name)
        session.add(venue)
    venue.address, venue.latitude, venue.longitude = address, latitude, longitude
    await session.flush()
    return venue
