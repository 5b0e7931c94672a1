// The wire formats are part of what the providers offer; importing ReaperProviders brings them along.
@_exported import ReaperWire
