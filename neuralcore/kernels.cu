// Fused one-pass logistic-regression kernels for CuPy: see neuralcore/_cuda.py for how they are
// launched and neuralcore/kernels.py for when. Compiled with NVRTC on first use (C++17).
template <typename T> __device__ __forceinline__ T nc_exp(T x);
template <> __device__ __forceinline__ float nc_exp<float>(float x) { return expf(x); }
template <> __device__ __forceinline__ double nc_exp<double>(double x) { return exp(x); }
template <typename T> __device__ __forceinline__ T nc_log1p(T x);
template <> __device__ __forceinline__ float nc_log1p<float>(float x) { return log1pf(x); }
template <> __device__ __forceinline__ double nc_log1p<double>(double x) { return log1p(x); }
template <typename T> __device__ __forceinline__ T nc_abs(T x);
template <> __device__ __forceinline__ float nc_abs<float>(float x) { return fabsf(x); }
template <> __device__ __forceinline__ double nc_abs<double>(double x) { return fabs(x); }

template <typename T> __device__ __forceinline__ T nc_warp_sum(T v) {
#pragma unroll
    for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_xor_sync(0xffffffffu, v, offset);
    return v;
}

// Sum over aligned groups of WIDTH lanes (a butterfly: every lane of a group ends with the same bits).
template <typename T, int WIDTH> __device__ __forceinline__ T nc_group_sum(T v) {
#pragma unroll
    for (int offset = WIDTH / 2; offset > 0; offset >>= 1) v += __shfl_xor_sync(0xffffffffu, v, offset);
    return v;
}

#define NC_BLOCK 256

// One pass over X (n rows of f values, row stride ldx). A team of TEAM threads holds a row:
// TEAM = 8, 16 or 32 lanes of a warp (32 / TEAM teams per warp, at each step reading
// consecutive rows), or TEAM = 256, the whole block. Thread t of a team holds columns
// t, t + TEAM, ..., t + TEAM (K - 1) of its R rows in registers. Block q writes
// partials[q, 0:f] = the sum of dZ * x over its rows, then the sum of the per-sample costs
// and the sum of dZ: f + 2 values.
template <typename T, int K, int R, int TEAM>
__global__ void __launch_bounds__(NC_BLOCK) nc_logistic_partials(
    const T* __restrict__ X, const long long ldx,
    const T* __restrict__ y, const long long ldy,
    const T* __restrict__ w, const T* __restrict__ b,
    const long long n, const int f, T* __restrict__ partials)
{
    constexpr int WARPS = NC_BLOCK / 32;
    constexpr bool BLOCK_TEAM = TEAM > 32;
    constexpr int PER_WARP = BLOCK_TEAM ? 1 : 32 / TEAM;  // teams in a warp
    constexpr int UNITS = BLOCK_TEAM ? 1 : WARPS;  // what loops in step: each warp, or the block
    constexpr int UNIT_ROWS = PER_WARP * R;  // rows a unit takes per iteration
    __shared__ T team_sums[BLOCK_TEAM ? R : 1][WARPS];
    __shared__ T block_sums[BLOCK_TEAM ? 1 : TEAM * K + 2];
    const int lane = threadIdx.x & 31;
    const int warp = threadIdx.x >> 5;
    const int t = BLOCK_TEAM ? (int)threadIdx.x : lane % TEAM;  // rank in the team
    const int sub = BLOCK_TEAM ? 0 : lane / TEAM;  // team within the warp
    const int unit = BLOCK_TEAM ? 0 : warp;

    T wr[K], g[K];
#pragma unroll
    for (int k = 0; k < K; ++k) {
        const int j = t + TEAM * k;
        wr[k] = j < f ? w[j] : T(0);
        g[k] = T(0);
    }
    const T bias = b[0];
    T loss = T(0), dsum = T(0);

    const long long stride = (long long)gridDim.x * UNITS * UNIT_ROWS;
    // `base` is the same for every thread of a unit (warp, or block), so the shuffles and the
    // __syncthreads() below are reached by all of them; rows past n are masked instead.
    for (long long base = ((long long)blockIdx.x * UNITS + unit) * UNIT_ROWS; base < n; base += stride) {
        T x[R][K];
        T s[R];
#pragma unroll
        for (int r = 0; r < R; ++r) {
            const long long row = base + sub + (long long)PER_WARP * r;
            const T* xrow = X + (row < n ? row : 0) * ldx;
#pragma unroll
            for (int k = 0; k < K; ++k) {
                const int j = t + TEAM * k;
                x[r][k] = (row < n && j < f) ? xrow[j] : T(0);
            }
        }
#pragma unroll
        for (int r = 0; r < R; ++r) {
            T partial = T(0);
#pragma unroll
            for (int k = 0; k < K; ++k) partial += x[r][k] * wr[k];
            s[r] = nc_group_sum<T, (TEAM < 32 ? TEAM : 32)>(partial);
        }
        if constexpr (BLOCK_TEAM) {
            if (lane == 0) {
#pragma unroll
                for (int r = 0; r < R; ++r) team_sums[r][warp] = s[r];
            }
            __syncthreads();
#pragma unroll
            for (int r = 0; r < R; ++r) {
                T total = T(0);
#pragma unroll
                for (int q = 0; q < WARPS; ++q) total += team_sums[r][q];
                s[r] = total;
            }
            __syncthreads();
        }
#pragma unroll
        for (int r = 0; r < R; ++r) {
            const long long row = base + sub + (long long)PER_WARP * r;
            if (row < n) {
                const T z = s[r] + bias;
                const T target = y[row * ldy];
                const T e = nc_exp(-nc_abs(z));  // in (0, 1]: no overflow
                const T inv = T(1) / (T(1) + e);
                const T a = z >= T(0) ? inv : e * inv;  // sigmoid(z)
                const T dz = a - target;
#pragma unroll
                for (int k = 0; k < K; ++k) g[k] += dz * x[r][k];
                loss += (z > T(0) ? z : T(0)) - z * target + nc_log1p(e);
                dsum += dz;
            }
        }
    }

    T* out = partials + (long long)blockIdx.x * (f + 2);
    if constexpr (BLOCK_TEAM) {
#pragma unroll
        for (int k = 0; k < K; ++k) {
            const int j = t + TEAM * k;
            if (j < f) out[j] = g[k];
        }
        if (t == 0) {
            out[f] = loss;
            out[f + 1] = dsum;
        }
    } else {
        // The teams of a warp hold the same columns: add them with shuffles (every team lane
        // holds its team's loss and dsum), then add the warps in order (no atomics: deterministic).
#pragma unroll
        for (int offset = TEAM; offset < 32; offset <<= 1) {
#pragma unroll
            for (int k = 0; k < K; ++k) g[k] += __shfl_xor_sync(0xffffffffu, g[k], offset);
            loss += __shfl_xor_sync(0xffffffffu, loss, offset);
            dsum += __shfl_xor_sync(0xffffffffu, dsum, offset);
        }
        for (int i = threadIdx.x; i < TEAM * K + 2; i += NC_BLOCK) block_sums[i] = T(0);
        __syncthreads();
        for (int q = 0; q < WARPS; ++q) {
            if (warp == q && lane < TEAM) {
#pragma unroll
                for (int k = 0; k < K; ++k) block_sums[t + TEAM * k] += g[k];
                if (t == 0) {
                    block_sums[TEAM * K] += loss;
                    block_sums[TEAM * K + 1] += dsum;
                }
            }
            __syncthreads();
        }
        for (int i = threadIdx.x; i < f; i += NC_BLOCK) out[i] = block_sums[i];
        if (threadIdx.x == 0) {
            out[f] = block_sums[TEAM * K];
            out[f + 1] = block_sums[TEAM * K + 1];
        }
    }
}

// Sums the G rows of partials in a fixed order. Blocks of (32, 8) threads;
// blocks 0 .. ceil(f / 32) - 1 each finish 32 weights, the last block the bias
// and the cost. apply != 0: plain gradient descent, out_w = w - lr * grad;
// else out_w = grad. cost = sum(loss) / m + alpha / 2 * sum(w^2).
template <typename T>
__global__ void __launch_bounds__(256) nc_logistic_finish(
    const T* __restrict__ partials, const int G, const int f,
    const T* __restrict__ w, const T* __restrict__ b,
    const T inv_m, const T alpha, const T lr, const int apply,
    T* __restrict__ out_w, T* __restrict__ out_b, T* __restrict__ cost)
{
    __shared__ T rows[8][33];
    __shared__ T warp_totals[8][3];
    const int tx = threadIdx.x, ty = threadIdx.y;
    const long long width = (long long)f + 2;
    const int column_blocks = (f + 31) / 32;
    if ((int)blockIdx.x < column_blocks) {
        const int j = blockIdx.x * 32 + tx;
        T v = T(0);
        if (j < f) {
            for (int q = ty; q < G; q += 8) v += partials[q * width + j];
        }
        rows[ty][tx] = v;
        __syncthreads();
        if (ty == 0 && j < f) {
            T total = T(0);
#pragma unroll
            for (int q = 0; q < 8; ++q) total += rows[q][tx];
            const T grad = total * inv_m + alpha * w[j];
            out_w[j] = apply ? w[j] - lr * grad : grad;
        }
        return;
    }
    const int id = ty * 32 + tx;  // warp ty, lane tx
    T loss = T(0), dsum = T(0), wsq = T(0);
    for (int q = id; q < G; q += 256) {
        loss += partials[q * width + f];
        dsum += partials[q * width + f + 1];
    }
    if (alpha != T(0)) {
        for (int j = id; j < f; j += 256) wsq += w[j] * w[j];
    }
    loss = nc_warp_sum(loss);
    dsum = nc_warp_sum(dsum);
    wsq = nc_warp_sum(wsq);
    if (tx == 0) {
        warp_totals[ty][0] = loss;
        warp_totals[ty][1] = dsum;
        warp_totals[ty][2] = wsq;
    }
    __syncthreads();
    if (id == 0) {
        T l = T(0), d = T(0), s = T(0);
#pragma unroll
        for (int q = 0; q < 8; ++q) {
            l += warp_totals[q][0];
            d += warp_totals[q][1];
            s += warp_totals[q][2];
        }
        const T db = d * inv_m;
        out_b[0] = apply ? b[0] - lr * db : db;
        cost[0] = l * inv_m + T(0.5) * alpha * s;
    }
}
