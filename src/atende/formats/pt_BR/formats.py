# The moment something happened is shown to the second (SPEC §8: dd/mm/aaaa HH:MM:SS), as
# the protocol and its events are recorded: two events of one minute keep their order.
SHORT_DATETIME_FORMAT = "d/m/Y H:i:s"
