namespace AigneHub.Contracts;

/// <summary>One page of a list (the credit ledger, the call log); <see cref="Total"/> counts every item.</summary>
public sealed record PagedResponse<T>(IReadOnlyList<T> Items, int Page, int PageSize, long Total);
