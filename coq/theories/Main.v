(* Main.v: the paper's theorems under paper-facing names (THEORY.md section 5),
   each restated in full and proved by the development in theories/.
   `make check-proofs` audits every theorem of this file through Assumptions.v. *)
From Coq Require Import ZArith Reals List Lra.
From Flocq Require Import Core.
From Flocq Require IEEE754.Binary.
Import Flocq.IEEE754.Binary.
From ADCorrect Require FormatCard.
From ADCorrect Require Import Vec Frechet Activation Network AD NoKink NoKinkAD Counting T2 T5a.
From ADCorrect Require T5b T3 T1 T4.
From ADCorrect Require Import Clarke.
Import ListNotations.
Open Scope R_scope.

(* ---- THEORY.md section 1: |M| for IEEE-style formats --------------------- *)

(* |M| = 2^p (2^eb - 1) - 1 distinct finite values (+0 = -0, no NaN/inf). *)
Theorem format_card (p eb : Z) :
  (1 <= p)%Z -> (2 <= eb)%Z ->
  exists l : list R, NoDup l /\
    (forall x, In x l <->
       exists f : binary_float p (2 ^ (eb - 1)), is_finite _ _ f = true /\ B2R _ _ f = x) /\
    Z.of_nat (length l) = (2 ^ p * (2 ^ eb - 1) - 1)%Z.
Proof. exact (FormatCard.format_card p eb). Qed.

Theorem format_card_binary16 :
  exists l : list R, NoDup l /\
    (forall x, In x l <->
       exists f : binary_float 11 16, is_finite _ _ f = true /\ B2R _ _ f = x) /\
    Z.of_nat (length l) = 63487%Z.
Proof. exact FormatCard.format_card_binary16. Qed.

Theorem format_card_bfloat16 :
  exists l : list R, NoDup l /\
    (forall x, In x l <->
       exists f : binary_float 8 128, is_finite _ _ f = true /\ B2R _ _ f = x) /\
    Z.of_nat (length l) = 65279%Z.
Proof. exact FormatCard.format_card_bfloat16. Qed.

Theorem format_card_binary32 :
  exists l : list R, NoDup l /\
    (forall x, In x l <->
       exists f : binary_float 24 128, is_finite _ _ f = true /\ B2R _ _ f = x) /\
    Z.of_nat (length l) = 4278190079%Z.
Proof. exact FormatCard.format_card_binary32. Qed.

(* ---- THEORY.md section 5, T2: the counting bound and its tightness -------- *)

(* Kinked points: for a bias network over a finite M (duplicate-free list), at
   most n |M|^(W-1) parameter vectors in M^W have a kink neuron, where
   n = kink_total net = sum over neurons of |ndf(sigma_k)|. *)
Theorem T2_kink_count_bound (net : network) (M : list R) :
  bias_network net -> NoDup M ->
  (count (fun u => kink_neurons net (word_vec u) <> []) (words M (n_params net))
   <= kink_total net * length M ^ (n_params net - 1))%nat.
Proof. exact (T2.kink_count_bound net M). Qed.

(* T2: |ndf_M(f)| <= n |M|^(W-1) for (well-formed) bias networks. *)
Theorem T2_ndf_count_bound (net : network) (M : list R) :
  wf net -> bias_network net -> NoDup M ->
  (count (fun u => ~ differentiable (n_params net) (net_eval net) (word_vec u))
     (words M (n_params net))
   <= kink_total net * length M ^ (n_params net - 1))%nat.
Proof. exact (T2.T2_ndf_count_bound net M). Qed.

(* T2 as a fraction: |ndf_M(f)| / |M^W| <= n / |M|. *)
Theorem T2_ndf_fraction_bound (net : network) (M : list R) :
  wf net -> bias_network net -> NoDup M -> M <> [] -> (1 <= n_params net)%nat ->
  INR (count (fun u => ~ differentiable (n_params net) (net_eval net) (word_vec u))
         (words M (n_params net))) / INR (length M ^ n_params net)
  <= INR (kink_total net) / INR (length M).
Proof. exact (T2.T2_ndf_fraction_bound net M). Qed.

(* T2 tightness: N neurons y_k = b_k with one activation whose m kinks all lie
   in M, output f = sum_k c_k z_k with constant non-zero c_k, parameters W >= N:
   exactly |M|^W - (|M|-m)^N |M|^(W-N) non-differentiable points, at least
   bound * (1 - (N-1) m / (2|M|)), and exactly the bound N m |M|^(W-1) for N = 1. *)
Theorem T2_tightness (a : activation) (N W : nat) (c : vec) (M : list R) :
  NoDup M -> incl (kinks a) M -> (N <= W)%nat -> (forall k, (k < N)%nat -> c k <> 0) ->
  let ndf := count (fun u => ~ differentiable W (tight_net a N c) (word_vec u)) (words M W) in
  let q := length M in let m := length (kinks a) in
  ndf = (q ^ W - (q - m) ^ N * q ^ (W - N))%nat /\
  INR (N * m * q ^ (W - 1)) * (1 - INR (N - 1) * INR m / (2 * INR q)) <= INR ndf /\
  (N = 1%nat -> ndf = (N * m * q ^ (W - 1))%nat).
Proof. exact (T2.T2_tightness a N W c M). Qed.

(* The same family built as a network of Network.v: a well-formed bias network
   with n = N m, for which the T2 bound is attained up to the Bonferroni factor. *)
Theorem T2_tightness_network (a : activation) (N W : nat) (c : vec) (M : list R) :
  NoDup M -> incl (kinks a) M -> (N <= W)%nat -> (forall k, (k < N)%nat -> c k <> 0) ->
  let net := tight_network a N W c in
  let ndf := count (fun u => ~ differentiable (n_params net) (net_eval net) (word_vec u))
               (words M (n_params net)) in
  let q := length M in let m := length (kinks a) in
  wf net /\ bias_network net /\ kink_total net = (N * m)%nat /\
  ndf = (q ^ W - (q - m) ^ N * q ^ (W - N))%nat /\
  INR (kink_total net * q ^ (W - 1)) * (1 - INR (N - 1) * INR m / (2 * INR q)) <= INR ndf /\
  (N = 1%nat -> ndf = (kink_total net * q ^ (W - 1))%nat).
Proof. exact (T2.T2_tightness_network a N W c M). Qed.

(* ---- T5: beyond bias parameters ----------------------------------------- *)

(* T5(a): the bias-free network x = 1, z_1 = a x, y_2 = v_1 z_1, y_3 = v_2 z_1
   (relu), f = z_2 - z_3 is differentiable at (a, v_1, v_2) = (0, 1, -1) with
   df/da = 1, while AD with relu'(0) = 0 returns 0: inc_M(f) is non-empty for
   every M containing 0, 1, -1. *)
Theorem T5a_inc_nonempty :
  exists g, differentiable_at 3 (net_eval T5a) T5a_w0 g /\ ad T5a T5a_D T5a_w0 0%nat <> g 0%nat.
Proof.
  exists (unit_vec 0). destruct T5a_ad_wrong as [Hd [Had Hu]].
  split; [exact Hd|]. rewrite Had, Hu. lra.
Qed.

(* T5(b), for every well-formed network: if no kink neuron has a non-zero
   adjoint (not NS), f is differentiable at w and AD_D f(w) is its gradient,
   whatever the choice D. *)
Theorem T5b_not_NS_differentiable (net : network) (D : nat -> R) (w : vec) :
  wf net -> ~ NS net D w ->
  differentiable_at (n_params net) (net_eval net) w (ad net D w).
Proof. exact (T5b.T5b_not_NS_differentiable net D w). Qed.

(* T5(c): NS(w) implies non-differentiability whenever the topmost kink neuron
   with a non-zero adjoint is perturbable at w (any network). *)
Theorem T5c_NS_not_differentiable (net : network) (D : nat -> R) (w : vec) :
  wf net -> NS net D w ->
  (forall k, In k (kink_neurons net w) -> zbar net D w k <> 0 ->
     (forall j, In j (kink_neurons net w) -> (k < j)%nat -> zbar net D w j = 0) ->
     perturbable net w k) ->
  ~ differentiable (n_params net) (net_eval net) w.
Proof. exact (T3.T5c_NS_not_differentiable net D w). Qed.

(* ---- T3: the exact test -------------------------------------------------- *)

(* For bias networks, every w and every choice D: f is not differentiable at w
   iff some kink neuron has a non-zero adjoint. *)
Theorem T3_ndf_iff_NS (net : network) (D : nat -> R) (w : vec) :
  wf net -> bias_network net ->
  (~ differentiable (n_params net) (net_eval net) w <-> NS net D w).
Proof. exact (T3.T3 net D w). Qed.

(* ---- T1: AD is correct wherever the network is differentiable ----------- *)

(* For bias networks, at every w (machine-representable or not) and for every
   choice D: if f is differentiable at w with gradient g, AD_D f(w) = g;
   hence inc_M(f) is empty for every M. *)
Theorem T1_ad_correct (net : network) (D : nat -> R) (w g : vec) :
  wf net -> bias_network net -> differentiable_at (n_params net) (net_eval net) w g ->
  forall p, (p < n_params net)%nat -> ad net D w p = g p.
Proof. exact (T1.T1_ad_correct net D w g). Qed.

(* ---- T4: AD returns a Clarke subderivative ------------------------------- *)

(* For bias networks, if at every kink neuron the chosen derivative D k lies
   between the one-sided slopes, AD_D f(w) lies in the Clarke subdifferential:
   a convex combination of limits of gradients grad f(w_n), w_n -> w, f
   differentiable at w_n (Clarke.v: clarke_limit, in_clarke). *)
Theorem T4_ad_in_clarke (net : network) (D : nat -> R) (w : vec) :
  wf net -> bias_network net ->
  (forall k, In k (kink_neurons net w) ->
     Rmin (slope_left (sigma net k) (preact net w k)) (slope_right (sigma net k) (preact net w k))
       <= D k <=
     Rmax (slope_left (sigma net k) (preact net w k)) (slope_right (sigma net k) (preact net w k))) ->
  in_clarke net w (ad net D w).
Proof. exact (T4.T4_ad_in_clarke net D w). Qed.

(* ---- Certified numbers (issue 10, item 9) ------------------------------- *)

From Coq Require QArith Qreals.
From ADCorrect Require QAct QNet QAD QDecide QSpec Examples T5aCount Certified.

Section CertifiedNumbers.
Import QArith Qreals QAct QNet QAD QDecide QSpec Examples.
Open Scope R_scope.

(* Computable versions over Q (Computation/QNet.v, QAD.v) of the forward
   pass, K(w), the adjoints, AD and NS, equal to the real definitions of
   Network.v and AD.v at rational points: [to_network n] reads a network with
   rational constants and the activations of QAct.v as a network of
   Network.v, [qpoint u] reads a list of rationals as a vector of R^W, and a
   choice D with rational values is [qD dq] (neuron k gets nth k dq 0). *)
Theorem computable_eval_eq (n : qnet) (u : list Q) :
  net_eval (to_network n) (qpoint u) = Q2R (qnet_eval n u).
Proof. apply qnet_eval_correct. Qed.

Theorem computable_preact_eq (n : qnet) (u : list Q) (k : nat) :
  (k < qsize n)%nat -> preact (to_network n) (qpoint u) k = Q2R (qpreact n u (qzvec n u) k).
Proof. apply qpreact_correct. Qed.

Theorem computable_kinks_eq (n : qnet) (u : list Q) :
  kink_neurons (to_network n) (qpoint u) = qkink_neurons n u (qzvec n u).
Proof. apply qkink_neurons_correct. Qed.

Theorem computable_ybar_eq (n : qnet) (dq u : list Q) (k : nat) :
  ybar (to_network n) (qD dq) (qpoint u) k = Q2R (nth k (qybar n u (qzvec n u) dq) 0%Q).
Proof. apply qybar_correct. Qed.

Theorem computable_zbar_eq (n : qnet) (dq u : list Q) (k : nat) :
  zbar (to_network n) (qD dq) (qpoint u) k = Q2R (qzbar n dq u k).
Proof. apply qzbar_correct. Qed.

Theorem computable_ad_eq (n : qnet) (dq u : list Q) (p : nat) :
  (p < q_params n)%nat -> ad (to_network n) (qD dq) (qpoint u) p = Q2R (nth p (qad n dq u) 0%Q).
Proof. apply qad_correct. Qed.

Theorem computable_NS_iff (n : qnet) (dq u : list Q) :
  NS (to_network n) (qD dq) (qpoint u) <-> qNS n dq u = true.
Proof. apply qNS_correct. Qed.

(* T3 on counts: for bias networks the non-differentiable points of M^W are
   exactly the NS points, whatever the choice D (any finite list M). *)
Theorem T3_ndf_count_eq_ns_count (net : network) (D : nat -> R) (M : list R) :
  wf net -> bias_network net -> ndf_count net M = ns_count net D M.
Proof. apply ndf_count_eq_ns_count. Qed.

(* The network of examples/t5a.json, f(a, v_1, v_2) = relu(v_1 a) - relu(v_2 a),
   at a = 0 (every real point): differentiable iff |v_1| = |v_2|.  T5(b) and
   T5(c) decide every other point; Certified.v counts with this. *)
Theorem T5a_differentiable_at_a0_iff (w : vec) : w 0%nat = 0 ->
  (differentiable 3 (net_eval net_t5a) w <-> Rabs (w 1%nat) = Rabs (w 2%nat)).
Proof. apply T5aCount.t5a_differentiable_a0_iff. Qed.

(* Certified counts (Computation/Certified.v), proved by vm_compute through
   T5(b), T5(c) and, for T5(a) at a = 0, Computation/T5aCount.v.  net_X is the
   network of examples/X.json (spec_X, rendered in Computation/Examples.v from
   the JSON file and checked against it by tests/test_coqspec.py); M_fp_2_2,
   M_e2m1 and M_list_m1_0_1 are the values of fp(2,2), e2m1 and list(-1,0,1);
   spec_torch s is PyTorch's choice at the kinks.
     ndf_count net M = |{ w in M^W : f not differentiable at w }|
     inc_count net D M = |{ w in M^W : f differentiable at w, AD_D f(w) <> grad f(w) }|
     ns_count net D M = |{ w in M^W : NS(w) }|
   (QDecide.v; M^W is Counting.v's [words M W]).  `make check-proofs` exports
   these numbers to report/proof-status.json ("certified"). *)

Theorem certified_relu_1_1 :
  ndf_count net_relu_1_1 M_fp_2_2 = 11%nat /\
  ndf_count net_relu_1_1 M_e2m1 = 15%nat /\
  ndf_count net_relu_1_1 M_list_m1_0_1 = 3%nat.
Proof.
  repeat split; [exact (proj1 Certified.tally_relu_1_1_fp_2_2) |
    exact (proj1 Certified.tally_relu_1_1_e2m1) |
    exact (proj1 Certified.tally_relu_1_1_list_m1_0_1)].
Qed.

Theorem certified_relu_1_2_1 :
  ndf_count net_relu_1_2_1 M_list_m1_0_1 = 864%nat.
Proof. exact (proj1 Certified.tally_relu_1_2_1_list_m1_0_1). Qed.

Theorem certified_leaky_1_2_1 :
  ndf_count net_leaky_1_2_1 M_list_m1_0_1 = 864%nat.
Proof. exact (proj1 Certified.tally_leaky_1_2_1_list_m1_0_1). Qed.

Theorem certified_hardtanh_2_2_1 :
  ndf_count net_hardtanh_2_2_1 M_list_m1_0_1 = 3696%nat.
Proof. exact (proj1 Certified.tally_hardtanh_2_2_1_list_m1_0_1). Qed.

Theorem certified_tight_relu_2_v :
  ndf_count net_tight_relu_2_v M_list_m1_0_1 = 96%nat.
Proof. exact (proj1 Certified.tally_tight_relu_2_v_list_m1_0_1). Qed.

Theorem certified_tight_relu_1 :
  ndf_count net_tight_relu_1 M_fp_2_2 = 1%nat /\
  ndf_count net_tight_relu_1 M_e2m1 = 1%nat.
Proof.
  repeat split; [exact (proj1 Certified.tally_tight_relu_1_fp_2_2) |
    exact (proj1 Certified.tally_tight_relu_1_e2m1)].
Qed.

Theorem certified_tight_relu_2 :
  ndf_count net_tight_relu_2 M_fp_2_2 = 21%nat /\
  ndf_count net_tight_relu_2 M_e2m1 = 29%nat.
Proof.
  repeat split; [exact (proj1 Certified.tally_tight_relu_2_fp_2_2) |
    exact (proj1 Certified.tally_tight_relu_2_e2m1)].
Qed.

Theorem certified_tight_relu_3 :
  ndf_count net_tight_relu_3 M_fp_2_2 = 331%nat /\
  ndf_count net_tight_relu_3 M_e2m1 = 631%nat.
Proof.
  repeat split; [exact (proj1 Certified.tally_tight_relu_3_fp_2_2) |
    exact (proj1 Certified.tally_tight_relu_3_e2m1)].
Qed.

Theorem certified_tight_hardtanh_2 :
  ndf_count net_tight_hardtanh_2 M_fp_2_2 = 40%nat /\
  ndf_count net_tight_hardtanh_2 M_e2m1 = 56%nat.
Proof.
  repeat split; [exact (proj1 Certified.tally_tight_hardtanh_2_fp_2_2) |
    exact (proj1 Certified.tally_tight_hardtanh_2_e2m1)].
Qed.

Theorem certified_tight_hardtanh_3 :
  ndf_count net_tight_hardtanh_3 M_fp_2_2 = 602%nat /\
  ndf_count net_tight_hardtanh_3 M_e2m1 = 1178%nat.
Proof.
  repeat split; [exact (proj1 Certified.tally_tight_hardtanh_3_fp_2_2) |
    exact (proj1 Certified.tally_tight_hardtanh_3_e2m1)].
Qed.

(* T5(a): non-differentiable points, points where AD is wrong although f is
   differentiable (inc), and NS points; NS over-counts ndf here (no biases) *)
Theorem certified_t5a :
  ndf_count net_t5a M_list_m1_0_1 = 14%nat /\
  inc_count net_t5a (spec_torch spec_t5a) M_list_m1_0_1 = 2%nat /\
  ns_count net_t5a (spec_torch spec_t5a) M_list_m1_0_1 = 19%nat /\
  ndf_count net_t5a M_fp_2_2 = 310%nat /\
  inc_count net_t5a (spec_torch spec_t5a) M_fp_2_2 = 10%nat /\
  ns_count net_t5a (spec_torch spec_t5a) M_fp_2_2 = 331%nat /\
  ndf_count net_t5a M_e2m1 = 602%nat /\
  inc_count net_t5a (spec_torch spec_t5a) M_e2m1 = 14%nat /\
  ns_count net_t5a (spec_torch spec_t5a) M_e2m1 = 631%nat.
Proof.
  repeat split; [exact (proj1 Certified.tally_t5a_list_m1_0_1) |
    exact (proj2 Certified.tally_t5a_list_m1_0_1) |
    exact Certified.ns_t5a_list_m1_0_1 |
    exact (proj1 Certified.tally_t5a_fp_2_2) |
    exact (proj2 Certified.tally_t5a_fp_2_2) |
    exact Certified.ns_t5a_fp_2_2 |
    exact (proj1 Certified.tally_t5a_e2m1) |
    exact (proj2 Certified.tally_t5a_e2m1) |
    exact Certified.ns_t5a_e2m1].
Qed.

End CertifiedNumbers.
