(* Softmax attention weights as a smooth pre-activation (THEORY.md section 3,
   tau_k C1; issue 18, item 3): for one query and n >= 1 keys whose scores
   s_0, ..., s_(n-1) are entries z_(ix 0), ..., z_(ix (n-1)) of the packed
   (w, z) (e.g. earlier neurons computing q . k_l), the weight of key j,
     p_j = exp(s_j) / sum_l exp(s_l),
   is a C1 function of (w, z) ([softmax], a [c1_output], built with
   C1Algebra.v), with partial derivatives
     d p_j / d u_k = p_j (e_j(k) - sum_l p_l e_l(k)),
   e_l = unit vector of the coordinate of s_l; for distinct indices,
   d p_j / d s_l = p_j (delta_jl - p_l). *)
From Coq Require Import Reals Lra Lia List.
From Coquelicot Require Import Coquelicot.
From ADCorrect Require Import Vec Frechet Activation Network AD SelectLocal C1Output C1Algebra.
Open Scope R_scope.

Definition sm_formula (n : nat) (s : nat -> R) (j : nat) : R := exp (s j) / sumn n (fun l => exp (s l)).

Lemma exp_derive x : is_derive exp x (exp x).
Proof. auto_derive; [exact I | ring]. Qed.

Lemma exp_cont x : continuity_pt exp x.
Proof. apply derivable_continuous_pt, derivable_pt_exp. Qed.

Section Softmax.
Variables (W N n : nat) (ix : nat -> nat) (j : nat).
Hypothesis Hn : (0 < n)%nat.
Hypothesis Hix : forall l, (l < n)%nat -> (ix l < N)%nat.

Definition smc_exp (l : nat) : c1_output W N :=
  c1_comp W N exp exp (c1_coord0 W N (W + ix l)) (fun u => exp_derive _) (fun u => exp_cont _).
Definition smc_sum : c1_output W N := c1_sumn W N smc_exp n.

Lemma smc_sum_pos u : 0 < c1_g smc_sum u.
Proof. unfold smc_sum; rewrite c1_sumn_g; apply sumn_pos; [exact Hn | intros; apply exp_pos]. Qed.

Definition smc_inv : c1_output W N :=
  c1_comp W N Rinv dinv smc_sum (fun u => inv_derive _ (smc_sum_pos u)) (fun u => dinv_cont _ (smc_sum_pos u)).

(* the weight of key j: exp(s_j) * (1 / sum_l exp(s_l)) *)
Definition softmax : c1_output W N := c1_mult W N (smc_exp j) smc_inv.

Definition sm_scores (u : vec) : nat -> R := fun l => u (W + ix l)%nat.

Lemma smc_exp_g u l : (l < n)%nat -> c1_g (smc_exp l) u = exp (sm_scores u l).
Proof.
  intros Hl; change (exp (c1_g (c1_coord0 W N (W + ix l)) u) = exp (sm_scores u l)).
  rewrite c1_coord0_g; [reflexivity|]; pose proof (Hix l Hl); lia.
Qed.

Lemma smc_sum_g u : c1_g smc_sum u = sumn n (fun l => exp (sm_scores u l)).
Proof. unfold smc_sum; rewrite c1_sumn_g; apply sumn_ext; intros; apply smc_exp_g; assumption. Qed.

Hypothesis Hj : (j < n)%nat.

Theorem softmax_eval u : c1_g softmax u = sm_formula n (sm_scores u) j.
Proof.
  change (c1_g (smc_exp j) u * / c1_g smc_sum u = sm_formula n (sm_scores u) j).
  rewrite smc_exp_g, smc_sum_g by exact Hj; reflexivity.
Qed.

Definition sm_e (l k : nat) : R := unit_vec (W + ix l) k.

Definition sm_grad (u : vec) (k : nat) : R :=
  let s := sm_scores u in
  sm_formula n s j * (sm_e j k - sumn n (fun l => sm_formula n s l * sm_e l k)).

Lemma smc_exp_dg u l k : (l < n)%nat -> c1_dg (smc_exp l) u k = exp (sm_scores u l) * sm_e l k.
Proof.
  intros Hl; change (exp (c1_g (c1_coord0 W N (W + ix l)) u) * c1_dg (c1_coord0 W N (W + ix l)) u k =
                     exp (sm_scores u l) * sm_e l k).
  pose proof (Hix l Hl); rewrite c1_coord0_g, c1_coord0_dg by lia; reflexivity.
Qed.

Theorem softmax_grad u k : c1_dg softmax u k = sm_grad u k.
Proof.
  change (c1_g (smc_exp j) u * (dinv (c1_g smc_sum u) * c1_dg smc_sum u k)
          + / c1_g smc_sum u * c1_dg (smc_exp j) u k = sm_grad u k).
  pose proof (smc_sum_pos u) as Hpos.
  change (c1_dg smc_sum u k) with (c1_dg (c1_sumn W N smc_exp n) u k); rewrite c1_sumn_dg.
  rewrite (sumn_ext n _ (fun l => exp (sm_scores u l) * sm_e l k)) by (intros; apply smc_exp_dg; assumption).
  rewrite smc_sum_g in *; rewrite smc_exp_g, smc_exp_dg by exact Hj.
  unfold sm_grad, sm_formula, dinv.
  set (S := sumn n (fun l => exp (sm_scores u l))) in *.
  rewrite (sumn_ext n (fun l => exp (sm_scores u l) / S * sm_e l k)
             (fun l => / S * (exp (sm_scores u l) * sm_e l k))) by (intros; unfold Rdiv; ring).
  rewrite sumn_scal; field; lra.
Qed.

(* distinct indices: d p_j / d s_l = p_j (delta_jl - p_l), 0 elsewhere *)
Hypothesis Hinj : forall a b, (a < n)%nat -> (b < n)%nat -> ix a = ix b -> a = b.

Lemma sumn_sm_e (f : nat -> R) l : (l < n)%nat -> sumn n (fun a => f a * sm_e a (W + ix l)) = f l.
Proof.
  intros Hl; assert (G : forall p, (p <= n)%nat ->
    sumn p (fun a => f a * sm_e a (W + ix l)) = if lt_dec l p then f l else 0).
  { induction p as [|p IH]; intros Hp; [reflexivity|]; rewrite sumn_S, IH by lia.
    unfold sm_e, unit_vec; destruct (Nat.eq_dec (W + ix l) (W + ix p)) as [E|E].
    - assert (l = p) by (apply Hinj; lia); subst p.
      destruct (lt_dec l l); [lia|]; destruct (lt_dec l (S l)); [ring | lia].
    - destruct (Nat.eq_dec l p) as [->|Hne]; [lia|].
      destruct (lt_dec l p), (lt_dec l (S p)); try lia; ring. }
  rewrite G by lia; destruct (lt_dec l n); [reflexivity | lia].
Qed.

Theorem softmax_partial u l : (l < n)%nat ->
  c1_dg softmax u (W + ix l)%nat =
  sm_formula n (sm_scores u) j * ((if Nat.eq_dec j l then 1 else 0) - sm_formula n (sm_scores u) l).
Proof.
  intros Hl; rewrite softmax_grad; unfold sm_grad; rewrite sumn_sm_e by exact Hl.
  replace (sm_e j (W + ix l)) with (if Nat.eq_dec j l then 1 else 0); [reflexivity|].
  unfold sm_e, unit_vec; destruct (Nat.eq_dec j l) as [E0|Hne];
    destruct (Nat.eq_dec (W + ix l) (W + ix j)) as [E|E]; try reflexivity.
  - exfalso; apply E; rewrite E0; reflexivity.
  - exfalso; apply Hne, Hinj; [exact Hj | exact Hl | lia].
Qed.

Theorem softmax_partial_other u k : (forall l, (l < n)%nat -> k <> (W + ix l)%nat) ->
  c1_dg softmax u k = 0.
Proof.
  intros Hk; rewrite softmax_grad; unfold sm_grad.
  assert (E : forall l, (l < n)%nat -> sm_e l k = 0).
  { intros l Hl; unfold sm_e, unit_vec; destruct (Nat.eq_dec k (W + ix l)); [exfalso; exact (Hk l Hl e) | reflexivity]. }
  rewrite (sumn_ext n _ (fun _ => 0 * 0)), sumn_scal by (intros l Hl; rewrite E by exact Hl; ring).
  rewrite E by exact Hj; ring.
Qed.

End Softmax.
