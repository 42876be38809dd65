"""Reading registrations: the duplicate check, the place's and the property's other
registrations, the intake queue, the routing list."""

import math
from dataclasses import dataclass

from django.db.models import Q, QuerySet

from atende.occurrences.models import Event, EventKind, Mode, Occurrence, State
from atende.registrations.models import (
    DEFAULT_DISTANCE_M,
    Place,
    RegistrationSettings,
    Requester,
)

EARTH_RADIUS_M = 6_371_008.8
# Metres in a degree of latitude; a degree of longitude is this times cos(latitude).
DEGREE_M = math.pi * EARTH_RADIUS_M / 180
MATCHES_MAX = 20


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine), in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


@dataclass(frozen=True)
class Match:
    """An open registration that may be the same problem, and why."""

    occurrence: Occurrence
    place: Place
    reason: str  # "property", "address" or "near"
    distance: float | None
    requesters: list


_REASON_ORDER = {"property": 0, "address": 1, "near": 2}


def distance_of(operator_id: int) -> int:
    config = RegistrationSettings.objects.filter(operator_id=operator_id).first()
    return config.distance_m if config is not None else DEFAULT_DISTANCE_M


def duplicates_find(
    *,
    operator_id: int,
    subject_id: int,
    place: dict,
    exclude_id: int | None = None,
    within_m: int | None = None,
) -> list[Match]:
    """Open registrations of the same specification at the same property, the same address,
    or within ``within_m`` metres of the coordinates (the operator's setting by default):
    best matches first (property, address, then nearest), with their distance.

    Each condition is one range of an index on (operator, specification, …); the
    coordinates' is a latitude band read from the index, the longitude filtered in it, and
    the exact distance computed on those few rows."""
    within = within_m if within_m is not None else distance_of(operator_id)
    # The property's and the address's few places are read whatever their specification
    # (its index is on the operator alone), the box's of this one only.
    everywhere = Place.objects.filter(operator_id=operator_id)
    same = everywhere.filter(subject_id=subject_id)
    # One SELECT per condition, each a range of its own index, in one UNION: an OR of the
    # three would leave SQLite (and at times PostgreSQL) scanning the specification's rows.
    branches = []
    registration = (place.get("property_registration") or "").strip()
    if registration:
        branches.append(everywhere.filter(property_registration=registration))
    probe = Place(**{k: v for k, v in place.items() if k in _PLACE_ATTRS})
    probe.keys_refresh()
    if probe.address_key:
        branches.append(everywhere.filter(address_key=probe.address_key))
    lat, lon = place.get("latitude"), place.get("longitude")
    if lat is not None and lon is not None:
        dlat = within / DEGREE_M
        dlon = within / (DEGREE_M * max(math.cos(math.radians(lat)), 0.01))
        branches.append(
            same.filter(
                latitude__range=(lat - dlat, lat + dlat),
                longitude__range=(lon - dlon, lon + dlon),
            )
        )
    if not branches:
        return []
    ids = branches[0].values_list("occurrence_id", flat=True).order_by()
    if len(branches) > 1:
        ids = ids.union(
            *(b.values_list("occurrence_id", flat=True).order_by() for b in branches[1:])
        )
    found = list(ids)
    if not found:
        return []
    candidates = (
        Place.objects.filter(
            occurrence_id__in=found, subject_id=subject_id, occurrence__mode=Mode.ACTIVE
        )
        .exclude(occurrence__state=State.CLOSED)
        .select_related("occurrence__status", "occurrence__unit")
    )
    if exclude_id is not None:
        candidates = candidates.exclude(occurrence_id=exclude_id)
    matches = []
    for candidate in candidates[: MATCHES_MAX * 5]:
        distance = None
        if lat is not None and lon is not None and candidate.has_coordinates:
            distance = distance_m(lat, lon, candidate.latitude, candidate.longitude)
        if registration and candidate.property_registration == registration:
            reason = "property"
        elif probe.address_key and candidate.address_key == probe.address_key:
            reason = "address"
        elif distance is not None and distance <= within:
            reason = "near"
        else:
            continue  # inside the band's corners, outside the circle
        matches.append((candidate, reason, distance))
    matches.sort(
        key=lambda m: (
            _REASON_ORDER[m[1]],
            m[2] if m[2] is not None else math.inf,
            -m[0].occurrence.registered_at.timestamp(),
        )
    )
    matches = matches[:MATCHES_MAX]
    people = _requesters_of([m[0].occurrence_id for m in matches])
    return [
        Match(
            occurrence=candidate.occurrence,
            place=candidate,
            reason=reason,
            distance=distance,
            requesters=people.get(candidate.occurrence_id, []),
        )
        for candidate, reason, distance in matches
    ]


_PLACE_ATTRS = {"street", "number", "city", "neighbourhood"}


def _requesters_of(ids: list[int]) -> dict[int, list]:
    people: dict[int, list] = {}
    for requester in Requester.objects.filter(occurrence_id__in=ids).select_related("unit"):
        people.setdefault(requester.occurrence_id, []).append(requester)
    return people


@dataclass(frozen=True)
class Related:
    """The registration page's consultations (seed 004)."""

    of_property: list[Occurrence]
    closed_here: list[Occurrence]
    open_in_area: list[Occurrence]


def related_of(place: Place, *, visible: QuerySet[Occurrence], limit: int = 20) -> Related:
    """Registrations of the same property; those closed at the same place; the open ones of
    the same specification in the same neighbourhood (water shortage in the area)."""
    others = visible.exclude(pk=place.occurrence_id).filter(mode=Mode.ACTIVE)
    ordered = others.select_related("status", "subject").order_by("-registered_at")

    def of(condition: Q) -> list[Occurrence]:
        return list(ordered.filter(condition)[:limit])

    return Related(
        of_property=of(Q(place__property_registration=place.property_registration))
        if place.property_registration
        else [],
        closed_here=of(Q(place__address_key=place.address_key, state=State.CLOSED))
        if place.address_key
        else [],
        open_in_area=of(
            Q(
                place__neighbourhood_key=place.neighbourhood_key,
                place__subject_id=place.subject_id,
            )
            & ~Q(state=State.CLOSED)
        )
        if place.neighbourhood_key and place.subject_id
        else [],
    )


def routings_of(occurrence: Occurrence) -> QuerySet[Event]:
    """Consultar trâmites: each routing with its origin, destination, person and opinion."""
    return (
        Event.objects.filter(occurrence=occurrence, kind=EventKind.ROUTED)
        .select_related("unit_before", "unit_after", "actor")
        .order_by("seq")
    )
