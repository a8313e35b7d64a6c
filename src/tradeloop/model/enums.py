"""Enumerations shared by the model. Values are the strings written to the journal."""

from __future__ import annotations

from enum import StrEnum


class OrderSide(StrEnum):
    """Which way an order trades."""

    BUY = "BUY"
    SELL = "SELL"


class OrderType(StrEnum):
    """How an order prices itself."""

    MARKET = "MARKET"
    LIMIT = "LIMIT"
    STOP_MARKET = "STOP_MARKET"
    STOP_LIMIT = "STOP_LIMIT"


class TimeInForce(StrEnum):
    """How long an order works.

    GTC good till canceled; IOC fill what you can now, cancel the rest; FOK fill all now or
    nothing; DAY until the end of the trading session; GTD until ``expire_time_ns``.
    """

    GTC = "GTC"
    IOC = "IOC"
    FOK = "FOK"
    DAY = "DAY"
    GTD = "GTD"


class OrderStatus(StrEnum):
    """Where an order is in its life (see ``model.orders`` for the allowed transitions)."""

    INITIALIZED = "INITIALIZED"
    DENIED = "DENIED"
    SUBMITTED = "SUBMITTED"
    ACCEPTED = "ACCEPTED"
    REJECTED = "REJECTED"
    TRIGGERED = "TRIGGERED"
    PENDING_UPDATE = "PENDING_UPDATE"
    PENDING_CANCEL = "PENDING_CANCEL"
    PARTIALLY_FILLED = "PARTIALLY_FILLED"
    FILLED = "FILLED"
    CANCELED = "CANCELED"
    EXPIRED = "EXPIRED"


class LiquiditySide(StrEnum):
    """Whether a fill added liquidity (maker) or took it (taker)."""

    MAKER = "MAKER"
    TAKER = "TAKER"
    NONE = "NONE"


class AggressorSide(StrEnum):
    """Which side initiated a trade tick."""

    BUYER = "BUYER"
    SELLER = "SELLER"
    NONE = "NONE"


class BookAction(StrEnum):
    """What an order-book delta does."""

    ADD = "ADD"
    UPDATE = "UPDATE"
    DELETE = "DELETE"
    CLEAR = "CLEAR"


class BookSide(StrEnum):
    """Side of an order book."""

    BID = "BID"
    ASK = "ASK"
    NONE = "NONE"


class PositionSide(StrEnum):
    """Net direction of a position."""

    FLAT = "FLAT"
    LONG = "LONG"
    SHORT = "SHORT"


class TradingState(StrEnum):
    """What the risk engine lets through.

    ACTIVE: every order that passes the checks. REDUCING: only orders that reduce an open
    position. HALTED: no new orders (cancels still go through).
    """

    ACTIVE = "ACTIVE"
    REDUCING = "REDUCING"
    HALTED = "HALTED"


class InstrumentKind(StrEnum):
    """The kind of tradable instrument."""

    EQUITY = "equity"
    CRYPTO_SPOT = "crypto_spot"
    CRYPTO_PERPETUAL = "crypto_perpetual"
    FX_SPOT = "fx_spot"
    FUTURE = "future"
    OPTION = "option"  # a listed option: the premium is paid in full (cash), like a stock


class AccountType(StrEnum):
    """How an account settles trades.

    CASH: buying pays the full notional (equities, crypto spot); MARGIN: trades settle
    P&L only and positions are marked (futures, perpetuals, FX).
    """

    CASH = "CASH"
    MARGIN = "MARGIN"
