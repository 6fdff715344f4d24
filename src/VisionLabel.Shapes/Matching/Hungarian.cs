namespace VisionLabel.Shapes.Matching;

/// <summary>
/// The assignment that maximises the total weight (Kuhn–Munkres with potentials, O(n²·m) for n ≤ m): each row gets a
/// different column. Deterministic: the same weights in the same order give the same assignment (ties go to the
/// assignment the algorithm reaches first, which favours earlier rows and columns).
/// </summary>
public static class Hungarian
{
    /// <summary>For each row, its column, or -1 when there are more rows than columns and it got none.</summary>
    public static int[] MaxWeight(double[,] weight)
    {
        int rows = weight.GetLength(0), cols = weight.GetLength(1);
        if (rows == 0 || cols == 0) return Enumerable.Repeat(-1, rows).ToArray();
        bool transposed = rows > cols;
        int n = transposed ? cols : rows, m = transposed ? rows : cols;
        double Cost(int i, int j) => -(transposed ? weight[j, i] : weight[i, j]); // minimise the negated weight

        var u = new double[n + 1];
        var v = new double[m + 1];
        var p = new int[m + 1];   // p[j]: the row (1-based) in column j; 0 for none
        var way = new int[m + 1];
        for (int i = 1; i <= n; i++)
        {
            p[0] = i;
            int j0 = 0;
            var minv = new double[m + 1];
            Array.Fill(minv, double.PositiveInfinity);
            var used = new bool[m + 1];
            do
            {
                used[j0] = true;
                int i0 = p[j0], j1 = 0;
                double delta = double.PositiveInfinity;
                for (int j = 1; j <= m; j++)
                {
                    if (used[j]) continue;
                    double cur = Cost(i0 - 1, j - 1) - u[i0] - v[j];
                    if (cur < minv[j]) { minv[j] = cur; way[j] = j0; }
                    if (minv[j] < delta) { delta = minv[j]; j1 = j; }
                }
                for (int j = 0; j <= m; j++)
                {
                    if (used[j]) { u[p[j]] += delta; v[j] -= delta; }
                    else minv[j] -= delta;
                }
                j0 = j1;
            } while (p[j0] != 0);
            do { int j1 = way[j0]; p[j0] = p[j1]; j0 = j1; } while (j0 != 0);
        }

        var result = Enumerable.Repeat(-1, rows).ToArray();
        for (int j = 1; j <= m; j++)
        {
            if (p[j] == 0) continue;
            if (transposed) result[j - 1] = p[j] - 1;
            else result[p[j] - 1] = j - 1;
        }
        return result;
    }
}
