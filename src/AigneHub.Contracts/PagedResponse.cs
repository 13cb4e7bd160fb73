namespace AigneHub.Contracts;

/// <summary>One page of a list (the credit ledger, the call log); <see cref="Total"/> counts every item — or, when
/// <see cref="TotalIsLowerBound"/>, says only that there are at least that many (the call log stops counting at
/// <c>UsageApi.MaxCountedCalls</c>, so a page of ten million calls costs what a page of ten thousand does).</summary>
public sealed record PagedResponse<T>(IReadOnlyList<T> Items, int Page, int PageSize, long Total, bool TotalIsLowerBound = false);
